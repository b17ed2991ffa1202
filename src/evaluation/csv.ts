import type { EvaluationResult } from './robustness';

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function field(value: string | number | boolean | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The per-image table of an evaluation: one row per image, with its clean prediction, the
 * prediction, loss and the attack that broke it at each ε, and its minimal ε (blank: not flipped up to the largest ε).
 */
export function evaluationCsv(result: Pick<EvaluationResult, 'images' | 'epsilons'>, labels: readonly string[]): string {
  const eps = result.epsilons.map((e) => `eps_${+(e.epsilon * 255).toFixed(4)}_255`);
  const header = [
    'file', 'label', 'label_name', 'clean_prediction', 'clean_prediction_name', 'clean_correct', 'clean_loss',
    ...eps.flatMap((e) => [`${e}_prediction`, `${e}_correct`, `${e}_loss`, `${e}_broken_by`]),
    'minimal_epsilon', 'minimal_epsilon_255', 'lower_bound',
  ];
  const rows = result.images.map((r) => [
    r.name, r.label, labels[r.label], r.clean.prediction, labels[r.clean.prediction], r.clean.correct, r.clean.loss,
    ...r.atEpsilon.flatMap((p) => [p.prediction, p.correct, p.loss, p.brokenBy]),
    r.minimalEpsilon, r.minimalEpsilon === null ? null : r.minimalEpsilon * 255, r.lowerBound,
  ]);
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}
