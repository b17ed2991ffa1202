import type { LossCoefficients } from '../model/engine';
import type { LossKind } from './types';

/**
 * The attack objective, to be maximised, as coefficients over the logits (see engine.ts):
 * - ce, untargeted: CE(y)                      → a = −e_y
 * - ce, targeted:   CE(y) − CE(t) (tutorial)   → a = −e_y + e_t
 * - margin, untargeted: max_{j≠y} z_j − z_y    → b = e_j* − e_y
 * - margin, targeted:   z_t − max_{j≠t} z_j    → b = e_t − e_j*
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
  for (const z of logits) sum += Math.exp(z - max);
  return max + Math.log(sum);
}
