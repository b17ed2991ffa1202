import { Type, type Static } from '@sinclair/typebox';
import { ARGUMENT_NAMES } from '../attacks/arguments';
import { lossesOf, settingsFor, takes } from '../attacks/defaults';
import { argumentFields } from '../attacks/docs';
import { ATTACK_NAMES, isAttackName } from '../attacks/registry';
import type { AttackName } from '../attacks/types';
import { invalidParameter } from '../errors';
import { parseLabelsMap } from '../evaluation/labels-map';
import type { EvaluationSettings } from '../evaluation/robustness';
import { classIndexOf } from '../model/labels';
import { assertBudget, AttackFields, Fraction, fraction, sharedChoices, type AttackLimits } from './attack-params';
import type { NamedFile } from '../http/upload';
import { ModelField } from './model-field';

const attack = AttackFields.properties;

/** The fields of POST /v1/evaluations: the attack's own names, plus the set's. */
export const EvaluationFields = Type.Object(
  {
    attacks: Type.Optional(
      Type.String({
        description:
          'pgd (default: PGD on every image at every ε), autoattack (apgd-ce, then apgd-t, then square, each only on the images still correct at that ε; the per-image worst case), or a comma-separated list of attack names run the same way',
      }),
    ),
    epsilons: Type.String({ description: 'the radii: a JSON array or a comma-separated list of numbers or fractions, e.g. `1/255,2/255,4/255` (pixel units of [0, 1]); at most 20' }),
    labels: Type.Optional(Type.String({ description: 'JSON object: file name → class index, label name, or {"index": n}; or send a `label` field per image, in the order of the images' })),
    tolerance: Type.Optional(Fraction('per-image minimal-ε search: stop when the bracket is this narrow; default 0.25/255 (L∞) or 0.05 (L2)')),
    minimal: Type.Optional(Type.Boolean({ description: 'search each image\'s minimal ε (bisection below the grid point where it fell); default true. false: the grid point itself' })),
    norm: attack.norm,
    ...argumentFields(),
    restarts: attack.restarts,
    clamp: attack.clamp,
    seed: attack.seed,
    model: ModelField,
  },
  { additionalProperties: false },
);
export type EvaluationFields = Static<typeof EvaluationFields>;

export const MAX_EPSILONS = 20;
/** AutoAttack's standard order (FAB-T is not among advprobe's attacks). */
export const AUTOATTACK: AttackName[] = ['apgd-ce', 'apgd-t', 'square'];

/** The `attacks` field: "pgd", "autoattack" or "apgd-ce,square" → attack names in order. */
export function parseAttacks(text: string | undefined): AttackName[] {
  if (text === undefined || text.trim() === 'pgd') return ['pgd'];
  if (text.trim() === 'autoattack') return [...AUTOATTACK];
  const names = text.split(',').map((n) => n.trim().toLowerCase());
  for (const name of names) {
    if (!isAttackName(name)) throw invalidParameter(`attacks: unknown attack "${name}" (use pgd, autoattack, or a comma-separated list of ${ATTACK_NAMES.join(', ')})`);
  }
  if (new Set(names).size !== names.length) throw invalidParameter('attacks: an attack is listed twice');
  return names as AttackName[];
}

/** The `epsilons` field: "[0.004, \"2/255\"]" or "1/255, 2/255" → numbers. */
export function parseEpsilons(text: string, norm: 'linf' | 'l2'): number[] {
  let items: unknown[];
  if (text.trim().startsWith('[')) {
    try {
      items = JSON.parse(text) as unknown[];
    } catch {
      throw invalidParameter('epsilons: not a valid JSON array');
    }
    if (!Array.isArray(items)) throw invalidParameter('epsilons: expected a JSON array');
  } else {
    items = text.split(',');
  }
  const values = items.map((item) => (typeof item === 'number' ? item : fraction(String(item), 'epsilons')));
  const largest = norm === 'linf' ? 1 : Math.sqrt(224 * 224 * 3);
  if (values.length === 0 || values.length > MAX_EPSILONS) throw invalidParameter(`epsilons: give 1 to ${MAX_EPSILONS} values (got ${values.length})`);
  for (const v of values) if (!Number.isFinite(v) || v <= 0 || v > largest) throw invalidParameter(`epsilons: each must be greater than 0 and at most ${largest === 1 ? 1 : largest.toFixed(1)} (got ${v})`);
  return [...new Set(values)].sort((a, b) => a - b);
}

/** The label of each image: from the `labels` map by file name, or the i-th `label` field. */
export function imageLabels(files: NamedFile[], fields: Pick<EvaluationFields, 'labels'>, perImage: string[], labels: readonly string[]): number[] {
  if (fields.labels !== undefined && perImage.length > 0) throw invalidParameter('labels: send either the labels map or a label field per image, not both');
  if (fields.labels !== undefined) {
    let map: Map<string, number>;
    try {
      map = parseLabelsMap(JSON.parse(fields.labels) as unknown, labels);
    } catch (err) {
      throw invalidParameter(`labels: ${err instanceof SyntaxError ? 'not valid JSON' : (err as Error).message}`);
    }
    return files.map((f) => {
      const label = map.get(f.filename);
      if (label === undefined) throw invalidParameter(`labels: no label for image "${f.filename}"`);
      return label;
    });
  }
  if (perImage.length !== files.length) {
    throw invalidParameter(`label: send a labels map, or one label field per image (got ${perImage.length} labels for ${files.length} images)`);
  }
  return perImage.map((text, i) => {
    try {
      return classIndexOf(text, labels, `label ${i + 1}`);
    } catch (err) {
      throw invalidParameter((err as Error).message);
    }
  });
}

export function resolveEvaluationSettings(fields: EvaluationFields, limits: AttackLimits): Omit<EvaluationSettings, 'batchSize'> {
  const attacks = parseAttacks(fields.attacks);
  const norm = fields.norm ?? 'linf';
  // A field counts when some attack of the list uses it; one none of them uses is a 400.
  for (const name of ARGUMENT_NAMES) {
    if (fields[name] !== undefined && !attacks.some((a) => takes(a, name))) throw invalidParameter(`${name}: not used by ${attacks.join(', ')}`);
  }
  if (fields.loss !== undefined) {
    for (const a of attacks) {
      if (takes(a, 'loss') && !lossesOf(a).includes(fields.loss)) throw invalidParameter(`loss: ${a} takes ${lossesOf(a).join(' or ')} (got ${fields.loss})`);
    }
  }
  const tolerance = fields.tolerance === undefined ? (norm === 'linf' ? 0.25 / 255 : 0.05) : fraction(fields.tolerance, 'tolerance');
  if (!(tolerance > 0)) throw invalidParameter(`tolerance: must be greater than 0 (got ${tolerance})`);
  const epsilons = parseEpsilons(fields.epsilons, norm);
  const choices = { norm, ...sharedChoices(fields) };
  const largest = epsilons.at(-1)!;
  for (const a of attacks) assertBudget(settingsFor(a, { ...choices, epsilon: largest, earlyStop: false, quantize: 'round' }), limits);
  return { attacks, choices, epsilons, tolerance: fields.minimal === false ? null : tolerance };
}
