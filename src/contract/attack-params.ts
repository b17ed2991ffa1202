import { Kind, Type, type Static } from '@sinclair/typebox';
import { ARGUMENT_NAMES, ARGUMENTS, Fraction } from '../attacks/arguments';
import { lossesOf, settingsFor, takes, type AttackChoices } from '../attacks/defaults';
import { argumentFields, attackNamesText } from '../attacks/docs';
import type { AttackName, AttackSettings, MinimalSearch, TargetSpec } from '../attacks/types';
import { maxProbes } from '../attacks/minimal';
import { ATTACK_NAMES, attackOf } from '../attacks/registry';
import { randomSeed } from '../attacks/random';
import { invalidParameter } from '../errors';
import { classIndexOf } from '../model/labels';
import { TopK } from './classify';
import { ModelField } from './model-field';

export { Fraction };

/** The fields of POST /v1/attacks (multipart text fields, or the query with a raw image body). */
export const AttackNameField = Type.Union(
  ATTACK_NAMES.map((name) => Type.Literal(name)),
  { description: `${attackNamesText()}; default ${ATTACK_NAMES[0]} (the arguments' descriptions say which attack takes which)` },
);

export const AttackFields = Type.Object(
  {
    attack: Type.Optional(AttackNameField),
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
    ...argumentFields(),
    restarts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'runs (later ones start at random); best δ kept; default 1' })),
    earlyStop: Type.Optional(Type.Boolean({ description: 'stop as soon as the attack succeeds; default false' })),
    clamp: Type.Optional(Type.Boolean({ description: 'keep x+δ in [0, 1]; default true (false reproduces the tutorial)' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, description: 'makes random start and random target reproducible; default: drawn and reported' })),
    quantize: Type.Optional(Type.Union([Type.Literal('refine'), Type.Literal('round')], { description: 'refine (default): if rounding to 8 bits undoes the attack, take up to 10 L∞ steps on the 8-bit grid; round: only round' })),
    topk: Type.Optional(TopK),
    images: Type.Optional(Type.Union([Type.Literal('inline'), Type.Literal('none')], { description: 'inline (default): base64 PNGs in the result; none: fetch them from /v1/jobs/{id}/*.png' })),
    model: ModelField,
  },
  { additionalProperties: false },
);
export type AttackFields = Static<typeof AttackFields>;

export interface AttackRequestSpec {
  label: number | null;
  target: TargetSpec;
  /** With mode=minimal, `epsilon` is epsilonMax and `earlyStop` is on. */
  settings: AttackSettings;
  search: MinimalSearch | null;
  topk: number;
  images: 'inline' | 'none';
}

const MAX_L2 = Math.sqrt(224 * 224 * 3); // the diameter of the image box [0, 1]^(224·224·3)

/** The largest budgets one request may ask for. */
export interface AttackLimits {
  /** Gradient steps (ADVPROBE_MAX_STEPS). */
  maxSteps: number;
  /** Square's forward passes (ADVPROBE_MAX_QUERIES). */
  maxQueries: number;
}

export const attackLimits = (config: { ADVPROBE_MAX_STEPS: number; ADVPROBE_MAX_QUERIES: number }): AttackLimits => ({ maxSteps: config.ADVPROBE_MAX_STEPS, maxQueries: config.ADVPROBE_MAX_QUERIES });

/** Turns validated fields into attack settings; 400 naming the field for values no schema can check. */
export function resolveAttackRequest(fields: AttackFields, labels: readonly string[], limits: AttackLimits): AttackRequestSpec {
  const attack = fields.attack ?? 'pgd';
  const norm = fields.norm ?? 'linf';
  const search = minimalSearch(fields, norm);
  if (search && attack !== 'pgd') throw invalidParameter(`mode: minimal searches with pgd only (got attack=${attack})`);
  const refusal = attackOf(attack).refusesTarget;
  if (refusal && fields.target !== undefined) throw invalidParameter(`target: ${refusal}`);
  const epsilon = search ? search.epsilonMax : fields.epsilon === undefined ? 2 / 255 : fraction(fields.epsilon, 'epsilon');
  assertRadius(epsilon, norm, 'epsilon');
  const settings = settingsFor(attack, attackChoices(attack, fields, { norm, epsilon, earlyStop: search !== null || (fields.earlyStop ?? false) }));
  assertBudget(settings, limits, search ? maxProbes(search) : 1);
  const label = fields.label === undefined ? null : classOf(fields.label, 'label', labels);
  const target = targetOf(fields.target, labels);
  if (target.kind === 'class' && label !== null && target.classIndex === label) {
    throw invalidParameter(`target: the target ${target.classIndex} (${labels[label]}) is the true label; choose another class`);
  }
  return { label, target, settings, search, topk: fields.topk ?? 5, images: fields.images ?? 'inline' };
}

type SharedFields = Pick<AttackFields, (typeof ARGUMENT_NAMES)[number] | 'restarts' | 'clamp' | 'seed'>;

/** The fields attacks and evaluations share, defaults filled in; a fraction argument (stepSize) as a number, 400 when ≤ 0. */
export function sharedChoices(fields: SharedFields): Omit<AttackChoices, 'norm' | 'epsilon' | 'earlyStop' | 'quantize'> {
  const values: Record<string, unknown> = {};
  for (const name of ARGUMENT_NAMES) {
    const value = fields[name];
    if (value === undefined || ARGUMENTS[name][Kind] !== 'String') {
      values[name] = value;
      continue;
    }
    const number = fraction(String(value), name);
    if (!(number > 0)) throw invalidParameter(`${name}: must be greater than 0 (got ${number})`);
    values[name] = number;
  }
  return { ...(values as Partial<AttackChoices>), restarts: fields.restarts ?? 1, clamp: fields.clamp ?? true, seed: fields.seed ?? randomSeed() };
}

/** The fields an attack shares with evaluations, as AttackChoices; 400 for a field the attack does not use. */
export function attackChoices(attack: AttackName, fields: SharedFields & Pick<AttackFields, 'quantize'>, fixed: Pick<AttackChoices, 'norm' | 'epsilon' | 'earlyStop'>): AttackChoices {
  for (const name of ARGUMENT_NAMES) {
    if (fields[name] !== undefined && !takes(attack, name)) throw invalidParameter(`${name}: not used by ${attack} (README: "Attacks" lists each attack's arguments)`);
  }
  if (fields.loss !== undefined && !lossesOf(attack).includes(fields.loss)) throw invalidParameter(`loss: ${attack} takes ${lossesOf(attack).join(' or ')} (got ${fields.loss})`);
  return { ...fixed, ...sharedChoices(fields), quantize: fields.quantize ?? 'refine' };
}

/** 400 when the attack's budget (× `probes` for a minimal-ε search) passes the service's limits. */
export function assertBudget(settings: AttackSettings, limits: AttackLimits, probes = 1): void {
  const { gradient, forward, of } = attackOf(settings.attack).budget(settings);
  const field = of.split(' ')[0];
  if (gradient === 0) {
    // Score-based: forward passes only, bounded on their own.
    const queries = forward * settings.restarts;
    if (queries > limits.maxQueries) throw invalidParameter(`${field}: ${of} × restarts must be at most ${limits.maxQueries} (ADVPROBE_MAX_QUERIES), got ${queries}`);
    return;
  }
  const budget = gradient * settings.restarts * probes;
  if (budget > limits.maxSteps) {
    const what = probes > 1 ? `${of} × restarts × probes (${probes} for this epsilonMax and tolerance)` : `${of} × restarts`;
    throw invalidParameter(`${field}: ${what} must be at most ${limits.maxSteps} (ADVPROBE_MAX_STEPS), got ${budget}`);
  }
}

function assertRadius(value: number, norm: 'linf' | 'l2', field: string): void {
  const largest = norm === 'linf' ? 1 : MAX_L2;
  if (value < 0 || value > largest) throw invalidParameter(`${field}: must be between 0 and ${norm === 'linf' ? 1 : largest.toFixed(1)} for ${norm} (got ${value})`);
}

/** mode=minimal's search bracket; null for a plain attack (whose fields must not carry it). */
function minimalSearch(fields: AttackFields, norm: 'linf' | 'l2'): MinimalSearch | null {
  if ((fields.mode ?? 'attack') === 'attack') {
    for (const field of ['epsilonMax', 'tolerance'] as const) {
      if (fields[field] !== undefined) throw invalidParameter(`${field}: only with mode=minimal`);
    }
    return null;
  }
  if (fields.epsilon !== undefined) throw invalidParameter('epsilon: mode=minimal searches ε itself; give epsilonMax instead');
  const epsilonMax = fields.epsilonMax === undefined ? (norm === 'linf' ? 16 / 255 : 10) : fraction(fields.epsilonMax, 'epsilonMax');
  assertRadius(epsilonMax, norm, 'epsilonMax');
  if (!(epsilonMax > 0)) throw invalidParameter('epsilonMax: must be greater than 0');
  const tolerance = fields.tolerance === undefined ? (norm === 'linf' ? 0.25 / 255 : 0.05) : fraction(fields.tolerance, 'tolerance');
  if (!(tolerance > 0) || tolerance >= epsilonMax) throw invalidParameter(`tolerance: must be greater than 0 and less than epsilonMax (got ${tolerance})`);
  return { epsilonMax, tolerance };
}

/** "0.0078", "2/255", "1e-3" → number. */
export function fraction(text: string, field: string): number {
  const [num, den] = text.split('/').map((p) => Number(p.trim()));
  const value = den === undefined ? num : num / den;
  if (!Number.isFinite(value)) throw invalidParameter(`${field}: "${text}" is not a finite number or fraction`);
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
    throw invalidParameter(`${(err as Error).message} (${hint})`);
  }
}
