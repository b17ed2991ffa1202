import { Type, type Static } from '@sinclair/typebox';
import type { MinimalSearch, PgdSettings, TargetSpec } from '../attacks/types';
import { maxProbes } from '../attacks/minimal';
import { randomSeed } from '../attacks/random';
import { badRequest } from '../errors';
import { classIndexOf } from '../model/labels';
import { TopK } from './schemas';

export const Fraction = (description: string) =>
  Type.String({ pattern: '^\\s*[-+]?[0-9.]+([eE][-+]?[0-9]+)?(\\s*/\\s*[0-9.]+([eE][-+]?[0-9]+)?)?\\s*$', description });

/** The fields of POST /v1/attacks (multipart text fields, or the query with a raw image body). */
export const AttackFields = Type.Object(
  {
    mode: Type.Optional(
      Type.Union([Type.Literal('attack'), Type.Literal('minimal')], {
        description: 'attack (default): one attack at radius epsilon; minimal: search the smallest ε in (0, epsilonMax] that succeeds (bisection with early-stopped, warm-started PGD)',
      }),
    ),
    epsilonMax: Type.Optional(Fraction('mode=minimal: the largest ε searched, pixel units; default 16/255 (L∞) or 10 (L2)')),
    tolerance: Type.Optional(Fraction('mode=minimal: the search stops when the bracket is this narrow, pixel units; default 0.25/255 (L∞) or 0.05 (L2)')),
    target: Type.Optional(Type.String({ description: 'class index 0–999, label name, `random` (seeded) or `least-likely`; absent: untargeted' })),
    label: Type.Optional(Type.String({ description: 'true class (index or label name); default: the clean top-1' })),
    norm: Type.Optional(Type.Union([Type.Literal('linf'), Type.Literal('l2')], { default: 'linf' })),
    epsilon: Type.Optional(Fraction('radius ε in pixel units of [0, 1], a number or a fraction such as 2/255; default 2/255')),
    steps: Type.Optional(Type.Integer({ minimum: 1, description: 'gradient steps; default 10' })),
    stepSize: Type.Optional(Fraction('step size α (learning rate for sgd); default 2.5·ε/steps; with mode=minimal, the step at epsilonMax, scaled with each probe\'s ε')),
    optimizer: Type.Optional(Type.Union([Type.Literal('sign'), Type.Literal('sgd')], { description: 'sign: Madry PGD (normalised gradient for l2); sgd: plain gradient step (tutorial)' })),
    loss: Type.Optional(Type.Union([Type.Literal('ce'), Type.Literal('margin')], { description: 'cross-entropy (default) or logit margin' })),
    randomStart: Type.Optional(Type.Boolean({ description: 'start at a random point of the ball; default false' })),
    restarts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'runs (later ones start at random); best δ kept; default 1' })),
    earlyStop: Type.Optional(Type.Boolean({ description: 'stop as soon as the attack succeeds; default false' })),
    clamp: Type.Optional(Type.Boolean({ description: 'keep x+δ in [0, 1]; default true (false reproduces the tutorial)' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, description: 'makes random start and random target reproducible; default: drawn and reported' })),
    quantize: Type.Optional(Type.Union([Type.Literal('refine'), Type.Literal('round')], { description: 'refine (default): if rounding to 8 bits undoes the attack, take up to 10 L∞ steps on the 8-bit grid; round: only round' })),
    topk: Type.Optional(TopK),
    images: Type.Optional(Type.Union([Type.Literal('inline'), Type.Literal('none')], { description: 'inline (default): base64 PNGs in the result; none: fetch them from /v1/jobs/{id}/*.png' })),
  },
  { additionalProperties: false },
);
export type AttackFields = Static<typeof AttackFields>;

export interface AttackRequestSpec {
  label: number | null;
  target: TargetSpec;
  /** With mode=minimal, `epsilon` is epsilonMax and `earlyStop` is on. */
  settings: PgdSettings;
  search: MinimalSearch | null;
  topk: number;
  images: 'inline' | 'none';
}

const MAX_L2 = Math.sqrt(224 * 224 * 3); // the diameter of the image box [0, 1]^(224·224·3)

/** Turns validated fields into attack settings; 400 naming the field for values no schema can check. */
export function resolveAttackRequest(fields: AttackFields, labels: readonly string[], maxSteps: number): AttackRequestSpec {
  const norm = fields.norm ?? 'linf';
  const search = minimalSearch(fields, norm);
  const epsilon = search ? search.epsilonMax : fields.epsilon === undefined ? 2 / 255 : fraction(fields.epsilon, 'epsilon');
  assertRadius(epsilon, norm, 'epsilon');
  const steps = fields.steps ?? 10;
  const restarts = fields.restarts ?? 1;
  const budget = steps * restarts * (search ? maxProbes(search) : 1);
  if (budget > maxSteps) {
    const what = search ? `steps × restarts × probes (${maxProbes(search)} for this epsilonMax and tolerance)` : 'steps × restarts';
    throw badRequest('invalid_parameter', `steps: ${what} must be at most ${maxSteps} (ADVPROBE_MAX_STEPS), got ${budget}`);
  }
  const stepSize = fields.stepSize === undefined ? (2.5 * epsilon) / steps : fraction(fields.stepSize, 'stepSize');
  if (!(stepSize > 0)) throw badRequest('invalid_parameter', `stepSize: must be greater than 0 (got ${stepSize})`);
  const label = fields.label === undefined ? null : classOf(fields.label, 'label', labels);
  const target = targetOf(fields.target, labels);
  if (target.kind === 'class' && label !== null && target.classIndex === label) {
    throw badRequest('invalid_parameter', `target: the target ${target.classIndex} (${labels[label]}) is the true label; choose another class`);
  }
  return {
    label,
    target,
    settings: {
      norm,
      epsilon,
      steps,
      stepSize,
      optimizer: fields.optimizer ?? 'sign',
      loss: fields.loss ?? 'ce',
      randomStart: fields.randomStart ?? false,
      restarts,
      earlyStop: search !== null || (fields.earlyStop ?? false),
      clamp: fields.clamp ?? true,
      seed: fields.seed ?? randomSeed(),
      quantize: fields.quantize ?? 'refine',
    },
    search,
    topk: fields.topk ?? 5,
    images: fields.images ?? 'inline',
  };
}

function assertRadius(value: number, norm: 'linf' | 'l2', field: string): void {
  const largest = norm === 'linf' ? 1 : MAX_L2;
  if (value < 0 || value > largest) throw badRequest('invalid_parameter', `${field}: must be between 0 and ${norm === 'linf' ? 1 : largest.toFixed(1)} for ${norm} (got ${value})`);
}

/** mode=minimal's search bracket; null for a plain attack (whose fields must not carry it). */
function minimalSearch(fields: AttackFields, norm: 'linf' | 'l2'): MinimalSearch | null {
  if ((fields.mode ?? 'attack') === 'attack') {
    for (const field of ['epsilonMax', 'tolerance'] as const) {
      if (fields[field] !== undefined) throw badRequest('invalid_parameter', `${field}: only with mode=minimal`);
    }
    return null;
  }
  if (fields.epsilon !== undefined) throw badRequest('invalid_parameter', 'epsilon: mode=minimal searches ε itself; give epsilonMax instead');
  const epsilonMax = fields.epsilonMax === undefined ? (norm === 'linf' ? 16 / 255 : 10) : fraction(fields.epsilonMax, 'epsilonMax');
  assertRadius(epsilonMax, norm, 'epsilonMax');
  if (!(epsilonMax > 0)) throw badRequest('invalid_parameter', 'epsilonMax: must be greater than 0');
  const tolerance = fields.tolerance === undefined ? (norm === 'linf' ? 0.25 / 255 : 0.05) : fraction(fields.tolerance, 'tolerance');
  if (!(tolerance > 0) || tolerance >= epsilonMax) throw badRequest('invalid_parameter', `tolerance: must be greater than 0 and less than epsilonMax (got ${tolerance})`);
  return { epsilonMax, tolerance };
}

/** "0.0078", "2/255", "1e-3" → number. */
export function fraction(text: string, field: string): number {
  const [num, den] = text.split('/').map((p) => Number(p.trim()));
  const value = den === undefined ? num : num / den;
  if (!Number.isFinite(value)) throw badRequest('invalid_parameter', `${field}: "${text}" is not a finite number or fraction`);
  return value;
}

function targetOf(text: string | undefined, labels: readonly string[]): TargetSpec {
  if (text === undefined || text.trim() === '') return { kind: 'none' };
  const t = text.trim().toLowerCase();
  if (t === 'random') return { kind: 'random' };
  if (t === 'least-likely') return { kind: 'least-likely' };
  return { kind: 'class', classIndex: classOf(text, 'target', labels) };
}

/** A class index ("404") or a label name ("airliner", "Egyptian cat", any case); 400 naming the field. */
function classOf(text: string, field: string, labels: readonly string[]): number {
  try {
    return classIndexOf(text, labels, field);
  } catch (err) {
    const hint = `use a class index 0–${labels.length - 1} or a label from GET /v1/models/resnet50/labels`;
    throw badRequest('invalid_parameter', `${(err as Error).message} (${hint})`);
  }
}
