/**
 * The arguments an attack may take, beyond the settings every attack shares: each one's
 * request field (TypeBox: type and bounds) and what it means. Which attack takes which, and
 * with what default, each attack declares itself (its `arguments`); the request schemas, the
 * checks that refuse an argument nobody in the request uses, and the docs are derived from
 * both (docs.ts), and so are the settings' types (AttackSettings). A new argument is its
 * entry here and its neutral value.
 */
import { Type, type Static, type TSchema, type TString } from '@sinclair/typebox';

/** A number or a fraction such as 2/255, as text (contract/attack-params.ts turns it into a number). */
export const Fraction = (description: string) =>
  Type.String({ pattern: '^\\s*[-+]?[0-9.]+([eE][-+]?[0-9]+)?(\\s*/\\s*[0-9.]+([eE][-+]?[0-9]+)?)?\\s*$', description });

export const ARGUMENTS = {
  steps: Type.Integer({ minimum: 1, description: 'gradient steps per run (apgd-t: per target)' }),
  stepSize: Fraction('step size α, pixel units (learning rate for sgd); with mode=minimal, the step at epsilonMax, scaled with each probe\'s ε'),
  optimizer: Type.Union([Type.Literal('sign'), Type.Literal('sgd')], { description: 'sign, Madry PGD (normalised gradient for l2), or sgd, plain gradient step (tutorial)' }),
  loss: Type.Union([Type.Literal('ce'), Type.Literal('margin'), Type.Literal('dlr')], { description: 'the objective maximised: cross-entropy, logit margin or DLR' }),
  randomStart: Type.Boolean({ description: 'start at a random point of the ball' }),
  queries: Type.Integer({ minimum: 1, description: 'forward passes per run, the initial point included' }),
  targets: Type.Integer({ minimum: 1, maximum: 999, description: 'how many of the most likely other classes it targets in turn' }),
};

export type ArgumentName = keyof typeof ARGUMENTS;
export const ARGUMENT_NAMES = Object.keys(ARGUMENTS) as ArgumentName[];

/** An argument's value once resolved: a fraction's text (stepSize) is a number by then. */
type Resolved<S extends TSchema> = S extends TString ? number : Static<S>;
export type ArgumentValues = { [K in ArgumentName]: Resolved<(typeof ARGUMENTS)[K]> };

/** The value an argument has for an attack that does not take it (results report it as such: 0, false). */
export const NEUTRAL: Omit<ArgumentValues, 'loss'> = { steps: 0, stepSize: 0, optimizer: 'sign', randomStart: false, queries: 0, targets: 0 };
