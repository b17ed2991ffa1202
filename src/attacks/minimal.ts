/**
 * The smallest perturbation that flips the label (untargeted) or reaches the target: a
 * bisection over ε with early-stopped PGD, as in the "minimal adversarial perturbation"
 * searches of Foolbox and Carlini & Wagner's binary search over the constant. Each probe
 * at radius ε runs `settings.restarts` early-stopped PGD runs (stopping at the first
 * success), with the step size scaled with ε; a probe starts from the last successful δ
 * projected into its smaller ball (a warm start), so it often succeeds in a step or two.
 *
 * Returns the last successful run and the bracket: `minimalEpsilon`, the smallest ε at
 * which an attack succeeded (the ‖δ‖ of that attack when it is smaller than the probe's ε),
 * and `lowerBound`, the largest ε tried that failed (0 if none did). Their gap is at most
 * `tolerance` when the search succeeded; if even epsilonMax fails, minimalEpsilon is null.
 * PGD is a heuristic: "failed" means this attack found nothing, not that nothing exists.
 */
import type { ClassifierEngine } from '../model/engine';
import type { AttackProblem, AttackRun, StepHooks } from './algorithm';
import { norms } from './projection';
import type { Random } from './random';
import { runBatch } from './runner';
import type { MinimalSearch, AttackSettings } from './types';

export interface SearchOutcome {
  minimalEpsilon: number | null;
  lowerBound: number;
  epsilonMax: number;
  tolerance: number;
  probes: { epsilon: number; success: boolean }[];
}

/** Probes a search makes at most: epsilonMax, then one per halving down to the tolerance. */
export function maxProbes({ epsilonMax, tolerance }: MinimalSearch): number {
  return 1 + Math.max(0, Math.ceil(Math.log2(epsilonMax / tolerance)));
}

/** A bracket already known (from an ε grid, say): `high` succeeded with `from`, `low` failed. */
export interface KnownBracket {
  low: number;
  high: number;
  from: Float32Array[];
}

export async function searchMinimalEpsilon(
  engine: ClassifierEngine,
  problem: AttackProblem,
  settings: AttackSettings,
  search: MinimalSearch,
  random: Random,
  hooksAt: (epsilon: number) => StepHooks,
  known?: KnownBracket,
): Promise<{ run: AttackRun | undefined; outcome: SearchOutcome }> {
  const probes: SearchOutcome['probes'] = [];
  const probe = async (epsilon: number, from: Float32Array[] | undefined): Promise<AttackRun> => {
    // The step size is given at epsilonMax and scales with the radius.
    const at = { ...settings, epsilon, stepSize: (settings.stepSize * epsilon) / search.epsilonMax, earlyStop: true };
    const first = from ? { from } : undefined;
    const run = await runBatch(engine, problem, at, random, { first, untilSuccess: true, hooks: hooksAt(epsilon) });
    probes.push({ epsilon, success: run.success[0] });
    return run;
  };
  const size = (run: AttackRun): number => norms(run.delta[0])[settings.norm === 'linf' ? 'linf' : 'l2'];
  const outcome = (minimalEpsilon: number | null, lowerBound: number): SearchOutcome => ({ minimalEpsilon, lowerBound, epsilonMax: search.epsilonMax, tolerance: search.tolerance, probes });

  let best: AttackRun | undefined;
  let high: number;
  let low: number;
  if (known) {
    ({ high, low } = known);
  } else {
    best = await probe(search.epsilonMax, undefined);
    if (!best.success[0]) return { run: best, outcome: outcome(null, search.epsilonMax) };
    high = Math.min(search.epsilonMax, size(best));
    low = 0;
  }
  while (high - low > search.tolerance) {
    const middle = (low + high) / 2;
    const run = await probe(middle, best?.delta ?? known?.from);
    if (run.success[0]) {
      best = run;
      high = Math.min(middle, size(run));
    } else {
      low = middle;
    }
  }
  return { run: best, outcome: outcome(high, low) };
}
