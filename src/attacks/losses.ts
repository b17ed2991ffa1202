import type { LossCoefficients } from '../model/engine';
import type { LossKind } from './types';

// Math read once per module, not per element: a global lookup inside a hot loop costs
// ~70x more in jest's vm context (the test suite); outside it, nothing changes.
const { exp, log, min } = Math;

/**
 * The attack objective, to be maximised, as coefficients over the logits (see engine.ts):
 * - ce, untargeted: CE(y)                      → a = −e_y
 * - ce, targeted:   CE(y) − CE(t) (tutorial)   → a = −e_y + e_t
 * - margin, untargeted: max_{j≠y} z_j − z_y    → b = e_j* − e_y
 * - margin, targeted:   z_t − max_{j≠t} z_j    → b = e_t − e_j*
 * - dlr, untargeted: −(z_y − max_{j≠y} z_j) / (z_π1 − z_π3)           (Croce & Hein 2020)
 * - dlr, targeted:   −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2)   (π: classes by logit, descending)
 *   DLR is not linear in z, so b = ∂DLR/∂z taken at `logits`: exact at the clean image, and
 *   one step behind after it (the ranking and the scale of the previous iterate).
 * For the margin, j* comes from `logits` (the latest known logits of each sample).
 */
export function objectiveCoefficients(
  kind: LossKind,
  labels: number[],
  targets: (number | null)[],
  logits: Float32Array[],
  numClasses: number,
): LossCoefficients {
  const n = labels.length;
  const a = new Float32Array(n * numClasses);
  const b = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    const t = targets[i];
    const row = i * numClasses;
    if (kind === 'ce') {
      a[row + y] -= 1;
      if (t !== null) a[row + t] += 1;
    } else if (kind === 'dlr') {
      b.set(dlrGradient(logits[i], y, t), row);
    } else if (t === null) {
      b[row + argmaxExcept(logits[i], y)] += 1;
      b[row + y] -= 1;
    } else {
      b[row + t] += 1;
      b[row + argmaxExcept(logits[i], t)] -= 1;
    }
  }
  return { a, b };
}

/** The objective's value computed exactly from logits (no lag in j* for the margin). */
export function objectiveValue(kind: LossKind, logits: Float32Array, label: number, target: number | null): number {
  if (kind === 'dlr') return dlrValue(logits, label, target);
  if (kind === 'margin') {
    return target === null ? logits[argmaxExcept(logits, label)] - logits[label] : logits[target] - logits[argmaxExcept(logits, target)];
  }
  const logSoftmax = (k: number): number => logits[k] - logSumExp(logits);
  return target === null ? -logSoftmax(label) : -logSoftmax(label) + logSoftmax(target);
}

/** Untargeted: the top-1 is no longer the label. Targeted: the top-1 is the target. */
export function isSuccess(logits: Float32Array, label: number, target: number | null): boolean {
  const top = argmaxExcept(logits, -1);
  return target === null ? top !== label : top === target;
}

export function argmaxExcept(values: Float32Array, excluded: number): number {
  let best = -1;
  for (let k = 0; k < values.length; k++) if (k !== excluded && (best < 0 || values[k] > values[best])) best = k;
  return best;
}

function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (const z of logits) if (z > max) max = z;
  let sum = 0;
  for (const z of logits) sum += exp(z - max);
  return max + log(sum);
}

/** Keeps DLR finite when the top logits tie (the reference's 1e-12). */
const DLR_GUARD = 1e-12;

/** The difference of logits ratio, untargeted (target null) or targeted. */
export function dlrValue(z: Float32Array, label: number, target: number | null): number {
  const [p1, p3, p4] = dlrRanks(z);
  if (target === null) return -(z[label] - z[argmaxExcept(z, label)]) / (z[p1] - z[p3] + DLR_GUARD);
  return -(z[label] - z[target]) / (z[p1] - (z[p3] + z[p4]) / 2 + DLR_GUARD);
}

/** ∂DLR/∂z at z, with the ranking held fixed (a quotient rule: −N'/D + N·D'/D²). */
export function dlrGradient(z: Float32Array, label: number, target: number | null): Float32Array {
  const g = new Float32Array(z.length);
  const [p1, p3, p4] = dlrRanks(z);
  const other = target ?? argmaxExcept(z, label);
  const n = z[label] - z[other];
  const d = target === null ? z[p1] - z[p3] + DLR_GUARD : z[p1] - (z[p3] + z[p4]) / 2 + DLR_GUARD;
  g[label] -= 1 / d;
  g[other] += 1 / d;
  const dd = n / (d * d);
  g[p1] += dd;
  if (target === null) {
    g[p3] -= dd;
  } else {
    g[p3] -= dd / 2;
    g[p4] -= dd / 2;
  }
  return g;
}

/** π1, π3 and π4 (on fewer than 4 classes, the lowest there is stands in). */
function dlrRanks(z: Float32Array): [number, number, number] {
  const top = topIndices(z, 4);
  const p3 = top[min(2, top.length - 1)];
  return [top[0], p3, top[min(3, top.length - 1)]];
}

/** The indices of the `count` largest values, largest first (ties: the lower index first). */
export function topIndices(values: Float32Array, count: number): number[] {
  const top: number[] = [];
  for (let k = 0; k < values.length; k++) {
    let at = top.length;
    while (at > 0 && values[k] > values[top[at - 1]]) at--;
    if (at < count) {
      top.splice(at, 0, k);
      if (top.length > count) top.pop();
    }
  }
  return top;
}
