/**
 * Runs over a subset of a batch (the samples still to break), seen from the batch: the
 * subset's problem and start, its step hooks with the batch's indices, and the one rule
 * that folds runs together — per sample, a success beats a failure, then the higher
 * objective wins (restarts in runner.ts, APGD-T's targets, the evaluation's worst point).
 */
import type { AttackProblem, AttackRun, StartPoint, StepHooks } from './algorithm';

/** Whether a point (success, objective) beats another: success first, then the higher objective. */
export const beats = (success: boolean, objective: number, bestSuccess: boolean, bestObjective: number): boolean =>
  success !== bestSuccess ? success : objective > bestObjective;

/** Folds a run over `members` (batch indices, in the run's order) into the best so far, per sample. */
export function keepBest(best: AttackRun | null, run: AttackRun, members: number[], count: number): AttackRun {
  const out: AttackRun = best ?? { delta: new Array(count), logits: new Array(count), success: new Array(count).fill(false), objective: new Array(count).fill(-Infinity) };
  members.forEach((i, j) => {
    if (out.delta[i] && !beats(run.success[j], run.objective[j], out.success[i], out.objective[i])) return;
    out.delta[i] = run.delta[j];
    out.logits[i] = run.logits[j];
    out.success[i] = run.success[j];
    out.objective[i] = run.objective[j];
  });
  return out;
}

export function subProblem(problem: AttackProblem, members: number[]): AttackProblem {
  return {
    xs: members.map((i) => problem.xs[i]),
    labels: members.map((i) => problem.labels[i]),
    targets: members.map((i) => problem.targets[i]),
    cleanLogits: members.map((i) => problem.cleanLogits[i]),
  };
}

export const subStart = (start: StartPoint, members: number[]): StartPoint => (typeof start === 'object' ? { from: members.map((i) => start.from[i]) } : start);

/** Step hooks of a run over `members`, seen as steps of the whole batch (`offset` added to the step). */
export function spreadHooks(hooks: StepHooks, members: number[], count: number, offset = 0): StepHooks {
  const spread = <T>(values: T[], empty: T): T[] => {
    const out = Array.from({ length: count }, () => empty);
    members.forEach((i, j) => (out[i] = values[j]));
    return out;
  };
  return {
    beforeStep: hooks.beforeStep,
    onStep: hooks.onStep && ((step, objectives, logits, deltas) => hooks.onStep!(offset + step, spread(objectives, NaN), spread(logits, null), spread(deltas, null))),
  };
}
