/**
 * The one declaration every attack is (Foolbox 3's and torchattacks' split): its name, its
 * arguments with their defaults, its budget and its loop over the engine, for a batch of
 * images with per-sample state. Everything else — resolving the label and target, restarts
 * with the best run per sample, the final check that δ is inside the ball and x + δ inside
 * the box, quantisation to 8 bits and its re-check, progress and cancel plumbing, call
 * counting — lives once in the runner (runner.ts, attack.ts). The request fields, the CLI
 * usage and the playground's choices are derived from these declarations (docs.ts).
 *
 * An attack must keep every δ inside the ε-ball of `settings.norm` and, with
 * `settings.clamp`, x + δ inside [0, 1] (the runner throws when it does not); it calls
 * `hooks.beforeStep` before each engine call of its loop (cancel, yielding) and
 * `hooks.onStep` after it.
 */
import type { ClassifierEngine } from '../model/engine';
import type { ArgumentName, ArgumentValues } from './arguments';
import type { Random } from './random';
import type { AttackName, AttackSettings, LossKind } from './types';

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

/** What a request chose: the shared settings, and each argument or undefined for the attack's default. */
export type AttackChoices = Omit<AttackSettings, 'attack' | ArgumentName> & Partial<ArgumentValues>;

/** Engine calls of one run per image, at most: gradient passes (forward and backward) and forward passes. */
export interface AttackBudget {
  gradient: number;
  forward: number;
  /** The request fields whose product bounds it, for the message when it is over the limit ("steps × targets"). */
  of: string;
}

export interface AttackDefinition<N extends string = AttackName> {
  readonly name: N;
  /** One line for the playground's choices and the CLI's usage. */
  readonly title: string;
  /** For the docs' table: the paper in short (the file's header cites it in full), what the paper fixes, and the engine calls of a run. */
  readonly doc: { paper: string; fixed?: string; cost: string };
  /** The arguments it takes, each with its default as the docs say it; a request that sets another one is refused. */
  readonly arguments: Partial<Record<ArgumentName, string>>;
  /** The losses it can maximise, its default first (one: fixed by the attack). */
  readonly losses: readonly LossKind[];
  /** Set when it refuses a target: why, and what to use instead. */
  readonly refusesTarget?: string;
  /** Its arguments from the request's choices, each missing one by its default (those it does not take: neutral values). */
  resolve(choices: AttackChoices): Partial<ArgumentValues>;
  /** What one run may cost; the service's limits apply to it. */
  budget(settings: AttackSettings): AttackBudget;
  /** Engine calls of one run that `onStep` reports, for progress totals. */
  steps(settings: AttackSettings): number;
  /** One run over the batch. */
  run(engine: ClassifierEngine, problem: AttackProblem, settings: AttackSettings, start: StartPoint, random: Random, hooks: StepHooks): Promise<AttackRun>;
}
