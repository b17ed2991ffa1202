import type { Random } from './random';
import type { Norm } from './types';

// Math read once per module, not per element: a global lookup inside a hot loop costs
// ~70x more in jest's vm context (the test suite); outside it, nothing changes.
const { abs, max, min, pow, sqrt, sign: signOf } = Math;

/** ‖δ‖∞ and ‖δ‖₂ of a perturbation. */
export function norms(delta: Float32Array): { linf: number; l2: number } {
  let linf = 0;
  let sq = 0;
  for (const v of delta) {
    const m = abs(v);
    if (m > linf) linf = m;
    sq += v * v;
  }
  return { linf, l2: sqrt(sq) };
}

/** Projects δ onto the ε-ball of the norm, in place: clip for L∞, rescale for L2. */
export function projectToBall(delta: Float32Array, norm: Norm, epsilon: number): void {
  if (norm === 'linf') {
    for (let i = 0; i < delta.length; i++) delta[i] = min(epsilon, max(-epsilon, delta[i]));
    return;
  }
  const { l2 } = norms(delta);
  if (l2 > epsilon) {
    const scale = epsilon / l2;
    for (let i = 0; i < delta.length; i++) delta[i] *= scale;
  }
}

/** Keeps x + δ inside the image box [0, 1], in place. Never leaves the ε-ball: it only shrinks |δ_i|. */
export function clampToBox(x: Float32Array, delta: Float32Array): void {
  for (let i = 0; i < delta.length; i++) delta[i] = min(1, max(0, x[i] + delta[i])) - x[i];
}

/** A random start: uniform in the L∞ ball, or uniform in the L2 ball. */
export function randomInBall(size: number, norm: Norm, epsilon: number, random: Random): Float32Array {
  const delta = new Float32Array(size);
  if (norm === 'linf') {
    for (let i = 0; i < size; i++) delta[i] = (2 * random.next() - 1) * epsilon;
    return delta;
  }
  for (let i = 0; i < size; i++) delta[i] = random.normal();
  const radius = epsilon * pow(random.next(), 1 / size);
  const { l2 } = norms(delta);
  for (let i = 0; i < size; i++) delta[i] *= radius / l2;
  return delta;
}

/** One ascent step, in place: sign for L∞ (Madry), normalised gradient for L2, or plain SGD. */
export function ascend(delta: Float32Array, gradient: Float32Array, rule: 'sign' | 'sgd', norm: Norm, stepSize: number): void {
  if (rule === 'sgd') {
    for (let i = 0; i < delta.length; i++) delta[i] += stepSize * gradient[i];
  } else if (norm === 'linf') {
    for (let i = 0; i < delta.length; i++) delta[i] += stepSize * signOf(gradient[i]);
  } else {
    const { l2 } = norms(gradient);
    if (l2 > 0) for (let i = 0; i < delta.length; i++) delta[i] += (stepSize * gradient[i]) / l2;
  }
}
