/**
 * The one runner every attack goes through — attack jobs (attack.ts), the minimal-ε search,
 * evaluations and training's inner maximisation: `settings.restarts` runs of the attack over
 * a batch (the first from `first`, later ones from random starts), keeping per sample the
 * best run (success first, then the higher objective), with the attack's own early stop,
 * cancel and progress through the step hooks, and the final check that every returned δ is
 * inside the ε-ball and, with clamp, x + δ inside [0, 1]. An attack that steps outside is a
 * bug, not a weak result: the runner throws rather than report it.
 */
import type { ClassifierEngine } from '../model/engine';
import type { AttackProblem, AttackRun, StartPoint, StepHooks } from './algorithm';
import { norms } from './projection';
import type { Random } from './random';
import { attackOf } from './registry';
import { keepBest, spreadHooks, subProblem } from './subset';
import type { AttackSettings, Norm } from './types';

// Math read once per module, not per element: a global lookup inside a hot loop costs
// ~70x more in jest's vm context (the test suite); outside it, nothing changes.
const { fround } = Math;
const finite = Number.isFinite;

export interface RunOptions {
  /** Where the first run starts; default: random with `settings.randomStart`, else δ = 0. */
  first?: StartPoint;
  /** With restarts: a later run takes only the samples no run has broken yet (and none runs once all are). */
  untilSuccess?: boolean;
  /** With untilSuccess: what counts as broken, where the caller saw more than the runs' results (default: the best run succeeded). */
  broken?: (sample: number) => boolean;
  /** Step hooks, with the batch's sample indices whatever subset a run covers. */
  hooks?: StepHooks;
  /** After each run (checked): its result per member, by batch index — for callers that fold every run, not only the best. */
  onRun?: (run: AttackRun, members: number[]) => void;
}

export async function runBatch(engine: ClassifierEngine, problem: AttackProblem, settings: AttackSettings, random: Random, options: RunOptions = {}): Promise<AttackRun> {
  const attack = attackOf(settings.attack);
  const count = problem.xs.length;
  const all = problem.xs.map((_, i) => i);
  const first = options.first ?? (settings.randomStart ? 'random' : 'zero');
  const broken = options.broken ?? ((i: number) => best!.success[i]);
  let best: AttackRun | null = null;
  for (let restart = 0; restart < settings.restarts; restart++) {
    const members = restart > 0 && options.untilSuccess ? all.filter((i) => !broken(i)) : all;
    if (members.length === 0) break;
    const whole = members.length === count;
    const run = await attack.run(
      engine,
      whole ? problem : subProblem(problem, members),
      settings,
      restart === 0 ? first : 'random',
      random,
      whole ? (options.hooks ?? {}) : spreadHooks(options.hooks ?? {}, members, count),
    );
    members.forEach((i, j) => assertInBounds(problem.xs[i], run.delta[j], settings));
    options.onRun?.(run, members);
    best = keepBest(best, run, members, count);
  }
  return best!;
}

/**
 * What float32 rounding after a projection may add: δ is stored in float32 (about 6e-8
 * relative), x + δ is summed in float32 (about 6e-8 at 1). Far below a real violation.
 */
const BALL_SLACK = { relative: 1e-5, absolute: 1e-7 };
const BOX_SLACK = 1e-6;

/** Raised when an attack returns a δ outside its ball or x + δ outside [0, 1] with clamp on: a bug in the attack. */
export class AttackBoundsError extends Error {
  constructor(message: string) {
    super(`attack bug: ${message}`);
    this.name = 'AttackBoundsError';
  }
}

/** Throws unless ‖δ‖ ≤ ε in the settings' norm and, with clamp, every x + δ is in [0, 1]. */
export function assertInBounds(x: Float32Array, delta: Float32Array, settings: Pick<AttackSettings, 'attack' | 'norm' | 'epsilon' | 'clamp'>): void {
  if (delta.length !== x.length || delta.some((v) => !finite(v))) throw new AttackBoundsError(`${settings.attack} returned a δ that is not ${x.length} finite numbers`);
  const size = sizeOf(delta, settings.norm);
  if (!(size <= settings.epsilon * (1 + BALL_SLACK.relative) + BALL_SLACK.absolute)) {
    throw new AttackBoundsError(`${settings.attack} returned ‖δ‖ = ${size} in ${settings.norm}, outside its ε = ${settings.epsilon}`);
  }
  if (!settings.clamp) return;
  for (let i = 0; i < x.length; i++) {
    const v = fround(x[i] + delta[i]);
    if (!(v >= -BOX_SLACK && v <= 1 + BOX_SLACK)) throw new AttackBoundsError(`${settings.attack} returned x + δ = ${v} at pixel ${i}, outside [0, 1] with clamp on`);
  }
}

const sizeOf = (delta: Float32Array, norm: Norm): number => norms(delta)[norm === 'linf' ? 'linf' : 'l2'];
