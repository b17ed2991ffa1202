/**
 * apgd-t — targeted Auto-PGD with the DLR loss, as AutoAttack runs it (Croce & Hein, ICML
 * 2020, §4 and the "standard" AutoAttack version). An untargeted attack: it succeeds when
 * the top-1 is no longer the label, and gets there by aiming at one class after another.
 *
 * Norm: L∞ or L2, radius ε. Arguments: targets (default 9: the most likely classes other
 * than the label, ranked by the clean logits, second most likely first), steps (default 10,
 * per target: AutoAttack gives each target the full budget), randomStart (default true),
 * clamp (default true). For each target in turn, APGD (apgd.ts) maximises the targeted DLR
 * −(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2) on the samples no earlier target has broken.
 * Calls per run: at most targets × steps gradient passes and targets forward passes.
 */
import type { AttackAlgorithm, AttackProblem, AttackRun, StepHooks } from './algorithm';
import { apgdRun } from './apgd';
import { activeIndices } from './batch';
import { dlrValue, topIndices } from './losses';

export const apgdT: AttackAlgorithm = {
  name: 'apgd-t',
  steps: (settings) => settings.steps * settings.targets,
  async run(engine, problem, settings, start, random, hooks) {
    const { labels } = problem;
    const count = problem.xs.length;
    const targets = Math.min(settings.targets, engine.info.numClasses - 1);
    const ranked = problem.cleanLogits.map((z, i) => topIndices(z, targets + 1).filter((k) => k !== labels[i]).slice(0, targets));
    const untargeted = (z: Float32Array, i: number): number => dlrValue(z, labels[i], null);
    let best: AttackRun | null = null;
    const done = problem.xs.map(() => false);
    for (let t = 0; t < targets; t++) {
      const active = activeIndices(done);
      if (active.length === 0) break;
      const sub: AttackProblem = {
        xs: active.map((i) => problem.xs[i]),
        labels: active.map((i) => labels[i]),
        targets: active.map(() => null), // success stays untargeted
        cleanLogits: active.map((i) => problem.cleanLogits[i]),
      };
      const subStart = typeof start === 'object' ? { from: active.map((i) => start.from[i]) } : start;
      const run = await apgdRun(engine, sub, { ...settings, loss: 'dlr' }, subStart, random, offsetHooks(hooks, t * settings.steps, count, active), {
        lossTargets: active.map((i) => ranked[i][t]),
        objective: (z, j) => untargeted(z, active[j]),
      });
      best = merge(best, run, active, count);
      active.forEach((i) => (done[i] = best!.success[i]));
    }
    return best!;
  },
};

/** Folds a run over a subset into the best so far: success first, then the higher objective. */
function merge(best: AttackRun | null, run: AttackRun, active: number[], count: number): AttackRun {
  const out: AttackRun = best ?? { delta: new Array(count), logits: new Array(count), success: new Array(count).fill(false), objective: new Array(count).fill(-Infinity) };
  active.forEach((i, j) => {
    const better = run.success[j] !== out.success[i] ? run.success[j] : run.objective[j] > out.objective[i];
    if (!better && out.delta[i]) return;
    out.delta[i] = run.delta[j];
    out.logits[i] = run.logits[j];
    out.success[i] = run.success[j];
    out.objective[i] = run.objective[j];
  });
  return out;
}

/** Step hooks of a subset run, seen as steps of the whole batch. */
function offsetHooks(hooks: StepHooks, offset: number, count: number, active: number[]): StepHooks {
  const spread = <T>(values: T[], empty: T): T[] => {
    const out = Array.from({ length: count }, () => empty);
    active.forEach((i, j) => (out[i] = values[j]));
    return out;
  };
  return {
    beforeStep: hooks.beforeStep,
    onStep: hooks.onStep && ((step, objectives, logits, deltas) => hooks.onStep!(offset + step, spread(objectives, NaN), spread(logits, null), spread(deltas, null))),
  };
}
