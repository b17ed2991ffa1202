/** Plain-array helpers shared by the attacks (no tensors above the engine). */
import type { ClassifierEngine } from '../model/engine';
import type { AttackProblem, AttackRun, StartPoint } from './algorithm';
import { isSuccess, objectiveValue } from './losses';
import { clampToBox, projectToBall, randomInBall } from './projection';
import type { Random } from './random';
import type { AttackSettings, LossKind } from './types';

/** The starting δ of each sample: in the ball and, with clamp, inside the image box. */
export function startingDeltas(xs: Float32Array[], settings: AttackSettings, start: StartPoint, random: Random): Float32Array[] {
  const { norm, epsilon, clamp } = settings;
  return xs.map((x, i) => {
    const d = start === 'random' ? randomInBall(x.length, norm, epsilon, random) : start === 'zero' ? new Float32Array(x.length) : start.from[i].slice();
    if (typeof start === 'object') projectToBall(d, norm, epsilon);
    if (clamp) clampToBox(x, d);
    return d;
  });
}

/** Evaluates the final δ of each sample once (one forward pass of the batch). */
export async function finishRun(engine: ClassifierEngine, problem: AttackProblem, delta: Float32Array[], loss: LossKind): Promise<AttackRun> {
  const { xs, labels, targets } = problem;
  const logits = await batchLogits(engine, xs.map((x, i) => add(x, delta[i])));
  return {
    delta,
    logits,
    success: logits.map((z, i) => isSuccess(z, labels[i], targets[i])),
    objective: logits.map((z, i) => objectiveValue(loss, z, labels[i], targets[i])),
  };
}

/** The indices of the samples not yet done. */
export const activeIndices = (done: boolean[]): number[] => done.flatMap((d, i) => (d ? [] : [i]));

export async function batchLogits(engine: ClassifierEngine, images: Float32Array[]): Promise<Float32Array[]> {
  const k = engine.info.numClasses;
  const all = await engine.logits(pack(images));
  return images.map((_, i) => all.slice(i * k, (i + 1) * k));
}

export function pack(images: Float32Array[]): { data: Float32Array; count: number } {
  const size = images[0].length;
  const data = new Float32Array(images.length * size);
  images.forEach((img, i) => data.set(img, i * size));
  return { data, count: images.length };
}

/** a − b, as a new array. */
export function subtract(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/** x + δ, as a new array (a plain loop: this runs every step). */
export function add(x: Float32Array, delta: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + delta[i];
  return out;
}
