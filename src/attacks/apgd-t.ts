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
import type { AttackDefinition, AttackProblem, AttackRun } from './algorithm';
import { APGD_ARGUMENTS, apgdRun, resolveApgd } from './apgd';
import { activeIndices } from './batch';
import { keepBest, spreadHooks, subProblem, subStart } from './subset';
import { dlrValue, topIndices } from './losses';

export const DEFAULT_TARGETS = 9;

export const apgdT: AttackDefinition<'apgd-t'> = {
  name: 'apgd-t',
  title: 'APGD-T (targets the likeliest classes)',
  doc: { paper: "Croce & Hein 2020, AutoAttack's targeted APGD-DLR", fixed: 'as apgd-ce; `steps` per target; untargeted success', cost: 'up to `targets` × `steps` gradient' },
  arguments: { ...APGD_ARGUMENTS, targets: String(DEFAULT_TARGETS) },
  losses: ['dlr'],
  refusesTarget: 'apgd-t chooses its own targets (the `targets` most likely classes); use apgd-ce or apgd-dlr for a targeted APGD',
  resolve: (choices) => ({ ...resolveApgd(choices), targets: choices.targets ?? DEFAULT_TARGETS }),
  budget: (settings) => ({ gradient: settings.steps * settings.targets, forward: settings.targets, of: 'steps × targets' }),
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
      const sub: AttackProblem = { ...subProblem(problem, active), targets: active.map(() => null) }; // success stays untargeted
      const run = await apgdRun(engine, sub, { ...settings, loss: 'dlr' }, subStart(start, active), random, spreadHooks(hooks, active, count, t * settings.steps), {
        lossTargets: active.map((i) => ranked[i][t]),
        objective: (z, j) => untargeted(z, active[j]),
      });
      best = keepBest(best, run, active, count);
      active.forEach((i) => (done[i] = best!.success[i]));
    }
    return best!;
  },
};
