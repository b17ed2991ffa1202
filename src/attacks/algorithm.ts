/**
 * The one interface every attack implements (Foolbox 3's and torchattacks' split): an
 * attack is only its loop over the engine, for a batch of images with per-sample state.
 * Everything else — resolving the label and target, restarts with the best run per sample,
 * quantisation to 8 bits and its re-check, progress and cancel plumbing, call counting —
 * lives once in the wrapper (attack.ts, restarts.ts) and in the evaluation.
 *
 * An attack must keep every δ inside the ε-ball of `settings.norm` and, with
 * `settings.clamp`, x + δ inside [0, 1]; it calls `hooks.beforeStep` before each engine
 * call of its loop (cancel, yielding) and `hooks.onStep` after it.
 */
import type { ClassifierEngine } from '../model/engine';
import type { Random } from './random';
import type { AttackName, AttackSettings } from './types';

export interface AttackProblem {
  xs: Float32Array[];
  labels: number[];
  /** The success criterion per sample: null untargeted (top-1 ≠ label), else top-1 = target. */
  targets: (number | null)[];
  /** Logits of the clean images (the first j* of a margin, APGD-T's target ranking). */
  cleanLogits: Float32Array[];
}

/** Where δ starts: 0, a random point of the ball, or given perturbations (projected into the ball). */
export type StartPoint = 'zero' | 'random' | { from: Float32Array[] };

export interface StepHooks {
  /** Runs before every engine call of the loop: the place to yield the thread and to throw on cancel. */
  beforeStep?: () => Promise<void>;
  /**
   * After every step: each sample's objective, logits and δ at the iterate just evaluated
   * (NaN / null for samples that took no part); the δ is a copy.
   */
  onStep?: (step: number, objectives: number[], logits: (Float32Array | null)[], deltas: (Float32Array | null)[]) => void;
}

export interface AttackRun {
  delta: Float32Array[];
  /** Logits at x + δ of the returned δ. */
  logits: Float32Array[];
  success: boolean[];
  /** The objective (to be maximised) at the returned δ: comparable between runs of one attack. */
  objective: number[];
}

export interface AttackAlgorithm {
  readonly name: AttackName;
  /** Engine calls of one run that `onStep` reports, for progress totals and budget limits. */
  steps(settings: AttackSettings): number;
  /** One run over the batch. */
  run(engine: ClassifierEngine, problem: AttackProblem, settings: AttackSettings, start: StartPoint, random: Random, hooks: StepHooks): Promise<AttackRun>;
}
