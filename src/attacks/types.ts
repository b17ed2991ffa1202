/** Settings of an attack, as the HTTP layer resolved them (pixel units, [0, 1]). */
export type Norm = 'linf' | 'l2';
export type StepRule = 'sign' | 'sgd';
export type LossKind = 'ce' | 'margin' | 'dlr';
export type QuantizeMode = 'refine' | 'round';

/** Every attack is one definition (attacks/algorithm.ts), one file each, listed in registry.ts. */
import type { ArgumentValues } from './arguments';
import type { AttackName } from './registry';
export type { AttackName };

/** The settings every attack shares; its own arguments (steps, loss, queries, …) are arguments.ts's. */
export interface SharedSettings {
  attack: AttackName;
  norm: Norm;
  epsilon: number;
  /** Number of runs; runs after the first always start at random. The best δ per sample is kept. */
  restarts: number;
  earlyStop: boolean;
  clamp: boolean;
  seed: number;
  /** refine: if rounding to 8 bits undoes the attack, take a few more steps on the 8-bit grid. */
  quantize: QuantizeMode;
}

export interface AttackSettings extends SharedSettings, ArgumentValues {}

/** mode=minimal: bisect ε in (0, epsilonMax] down to `tolerance` (pixel units). */
export interface MinimalSearch {
  epsilonMax: number;
  tolerance: number;
}

/** What to aim at: nothing (untargeted), a class, a seeded random class, or the least likely class. */
export type TargetSpec = { kind: 'none' } | { kind: 'class'; classIndex: number } | { kind: 'random' } | { kind: 'least-likely' };

/** One image to attack: pixels in [0, 1] (HWC RGB), the true label (null: the clean top-1), the target. */
export interface AttackSample {
  x: Float32Array;
  label: number | null;
  target: TargetSpec;
}

/** Raised for a request that only turns out to be invalid once the model has looked at the image. */
export class AttackInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'AttackInputError';
  }
}

export class AttackCancelledError extends Error {
  constructor() {
    super('the attack was cancelled');
    this.name = 'AttackCancelledError';
  }
}
