/**
 * Each attack's settings from what a request chose: the one place that says which
 * arguments an attack takes and what it does when one is left out (the HTTP layer, the
 * CLI and evaluations all come through here).
 */
import type { AttackName, AttackSettings, LossKind, Norm, QuantizeMode, StepRule } from './types';

export interface AttackChoices {
  norm: Norm;
  epsilon: number;
  steps?: number;
  stepSize?: number;
  optimizer?: StepRule;
  loss?: LossKind;
  randomStart?: boolean;
  restarts: number;
  earlyStop: boolean;
  clamp: boolean;
  seed: number;
  quantize: QuantizeMode;
  queries?: number;
  targets?: number;
}

export type ChoiceName = Exclude<keyof AttackChoices, 'norm' | 'epsilon' | 'restarts' | 'earlyStop' | 'clamp' | 'seed' | 'quantize'>;

/** Arguments an attack has no use for: a request that sets one is refused rather than silently ignored. */
export const UNUSED_CHOICES: Record<AttackName, ChoiceName[]> = {
  pgd: ['queries', 'targets'],
  fgsm: ['steps', 'optimizer', 'queries', 'targets'],
  'apgd-ce': ['stepSize', 'optimizer', 'loss', 'queries', 'targets'],
  'apgd-dlr': ['stepSize', 'optimizer', 'loss', 'queries', 'targets'],
  'apgd-t': ['stepSize', 'optimizer', 'loss', 'queries'],
  square: ['steps', 'stepSize', 'optimizer', 'randomStart', 'targets'],
};

/** The losses an attack can take (the APGDs fix theirs). */
export const LOSSES: Record<AttackName, LossKind[]> = {
  pgd: ['ce', 'margin', 'dlr'],
  fgsm: ['ce', 'margin', 'dlr'],
  'apgd-ce': ['ce'],
  'apgd-dlr': ['dlr'],
  'apgd-t': ['dlr'],
  square: ['margin', 'ce'],
};

export const DEFAULT_STEPS = 10;
export const DEFAULT_QUERIES = 1000;
export const DEFAULT_TARGETS = 9;

const isApgd = (attack: AttackName): boolean => attack.startsWith('apgd');

/** Settings of `attack` from the choices, each missing one by the attack's own default (see each attack's header). */
export function settingsFor(attack: AttackName, choices: AttackChoices): AttackSettings {
  const { epsilon } = choices;
  const randomStart = attack === 'square' ? false : (choices.randomStart ?? isApgd(attack));
  const steps = attack === 'square' ? 0 : attack === 'fgsm' ? 1 : (choices.steps ?? DEFAULT_STEPS);
  const stepSize =
    attack === 'pgd' ? (choices.stepSize ?? (2.5 * epsilon) / steps)
    : attack === 'fgsm' ? (choices.stepSize ?? (randomStart ? 1.25 : 1) * epsilon)
    : attack === 'square' ? 0
    : 2 * epsilon; // APGD's initial step
  return {
    attack,
    norm: choices.norm,
    epsilon,
    steps,
    stepSize,
    optimizer: attack === 'pgd' ? (choices.optimizer ?? 'sign') : 'sign',
    loss: choices.loss ?? LOSSES[attack][0],
    randomStart,
    restarts: choices.restarts,
    earlyStop: choices.earlyStop,
    clamp: choices.clamp,
    seed: choices.seed,
    quantize: choices.quantize,
    queries: attack === 'square' ? (choices.queries ?? DEFAULT_QUERIES) : 0,
    targets: attack === 'apgd-t' ? (choices.targets ?? DEFAULT_TARGETS) : 0,
  };
}
