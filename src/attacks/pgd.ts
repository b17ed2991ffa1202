/**
 * Projected gradient descent (ascent on the attack objective) — Madry et al., "Towards Deep
 * Learning Models Resistant to Adversarial Attacks" (2018); Kolter & Madry, "Adversarial
 * Robustness", chapter 1 (plain-gradient variant).
 *
 * Distance: L∞ or L2, radius ε, in pixel units of images in [0, 1].
 * Arguments (PgdSettings): norm, epsilon, steps, stepSize α, optimizer (`sign`: δ += α·sign(∇)
 * for L∞, δ += α·∇/‖∇‖₂ for L2; `sgd`: δ += α·∇), loss (`ce` | `margin`), randomStart, earlyStop
 * (per sample: a sample that succeeds keeps that δ and leaves the batch), clamp (x + δ ∈ [0, 1]).
 * One call is one run; restarts and quantisation live in attack.ts.
 * Input: a batch of images in [0, 1]; a pure function of the engine, no tensors here.
 */
import type { ClassifierEngine } from '../model/engine';
import { isSuccess, objectiveCoefficients, objectiveValue } from './losses';
import { ascend, clampToBox, projectToBall, randomInBall } from './projection';
import type { Random } from './random';
import type { PgdSettings } from './types';

export interface PgdHooks {
  /** Runs before every gradient step: the place to yield the thread and to throw on cancel. */
  beforeStep?: () => Promise<void>;
  /**
   * After every step: each sample's objective, logits and δ at the iterate the step was
   * taken from (NaN / null once done); the δ is a copy.
   */
  onStep?: (step: number, objectives: number[], logits: (Float32Array | null)[], deltas: (Float32Array | null)[]) => void;
}

export interface PgdRun {
  delta: Float32Array[];
  /** Logits at x + δ of the returned δ. */
  logits: Float32Array[];
  success: boolean[];
  /** The objective at the returned δ. */
  objective: number[];
}

export interface PgdProblem {
  xs: Float32Array[];
  labels: number[];
  targets: (number | null)[];
  /** Logits of the clean images (the margin's first j*). */
  cleanLogits: Float32Array[];
}

/** Where δ starts: 0, a random point of the ball, or given perturbations (projected into the ball). */
export type StartPoint = 'zero' | 'random' | { from: Float32Array[] };

export async function pgdRun(
  engine: ClassifierEngine,
  problem: PgdProblem,
  settings: PgdSettings,
  start: StartPoint,
  random: Random,
  hooks: PgdHooks = {},
): Promise<PgdRun> {
  const { xs, labels, targets } = problem;
  const { norm, epsilon, clamp } = settings;
  const size = xs[0].length;
  const numClasses = engine.info.numClasses;
  const delta = xs.map((x, i) => {
    const d = start === 'random' ? randomInBall(size, norm, epsilon, random) : start === 'zero' ? new Float32Array(size) : start.from[i].slice();
    if (typeof start === 'object') projectToBall(d, norm, epsilon);
    if (clamp) clampToBox(x, d);
    return d;
  });
  const latest = problem.cleanLogits.map((z) => z.slice());
  const done = xs.map(() => false);

  for (let step = 0; step < settings.steps; step++) {
    await hooks.beforeStep?.();
    const active = xs.map((_, i) => i).filter((i) => !done[i]);
    if (active.length === 0) break;
    const coefficients = objectiveCoefficients(settings.loss, active.map((i) => labels[i]), active.map((i) => targets[i]), active.map((i) => latest[i]), numClasses);
    const out = await engine.lossGradient(pack(active.map((i) => add(xs[i], delta[i]))), coefficients);
    const objectives = xs.map(() => NaN);
    const stepLogits: (Float32Array | null)[] = xs.map(() => null);
    const stepDeltas: (Float32Array | null)[] = xs.map(() => null);
    active.forEach((i, j) => {
      const logits = out.logits.slice(j * numClasses, (j + 1) * numClasses);
      latest[i] = logits;
      stepLogits[i] = logits;
      if (hooks.onStep) stepDeltas[i] = delta[i].slice();
      objectives[i] = objectiveValue(settings.loss, logits, labels[i], targets[i]);
      if (settings.earlyStop && isSuccess(logits, labels[i], targets[i])) {
        done[i] = true; // keep this δ: it is known to succeed
        return;
      }
      ascend(delta[i], out.gradient.subarray(j * size, (j + 1) * size), settings.optimizer, norm, settings.stepSize);
      projectToBall(delta[i], norm, epsilon);
      if (clamp) clampToBox(xs[i], delta[i]);
    });
    hooks.onStep?.(step, objectives, stepLogits, stepDeltas);
  }

  const logits = await batchLogits(engine, xs.map((x, i) => add(x, delta[i])));
  return {
    delta,
    logits,
    success: logits.map((z, i) => isSuccess(z, labels[i], targets[i])),
    objective: logits.map((z, i) => objectiveValue(settings.loss, z, labels[i], targets[i])),
  };
}

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
