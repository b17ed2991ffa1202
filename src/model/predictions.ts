
// Math read once per module, not per element: a global lookup inside a hot loop costs
// ~70x more in jest's vm context (the test suite); outside it, nothing changes.
const { exp } = Math;
/** Numerically stable softmax over one row of logits (float64 accumulation). */
export function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const z of logits) if (z > max) max = z;
  let sum = 0;
  for (const z of logits) sum += exp(z - max);
  return Float32Array.from(logits, (z) => exp(z - max) / sum);
}

export interface Prediction {
  classIndex: number;
  label: string;
  probability: number;
}

/** The k most probable classes, most probable first (ties: lower class index first). */
export function topK(probabilities: Float32Array, labels: readonly string[], k: number): Prediction[] {
  const order = Array.from(probabilities.keys()).sort((i, j) => probabilities[j] - probabilities[i] || i - j);
  return order.slice(0, k).map((classIndex) => ({ classIndex, label: labels[classIndex], probability: probabilities[classIndex] }));
}
