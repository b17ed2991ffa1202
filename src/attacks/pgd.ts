/**
 * pgd — projected gradient descent (ascent on the attack objective). Madry et al.,
 * "Towards Deep Learning Models Resistant to Adversarial Attacks" (ICLR 2018); Kolter &
 * Madry, "Adversarial Robustness", chapter 1 (the plain-gradient variant).
 *
 * Norm: L∞ or L2, radius ε (`epsilon`, pixel units of [0, 1]; default 2/255).
 * Arguments: steps (default 10), stepSize α (default 2.5·ε/steps), optimizer (`sign`,
 * default: δ += α·sign(∇) for L∞, δ += α·∇/‖∇‖₂ for L2; `sgd`: δ += α·∇), loss (`ce`,
 * default, | `margin` | `dlr`), randomStart (default false), earlyStop (default false: a
 * sample that succeeds keeps that δ and leaves the batch), clamp (default true: x + δ ∈ [0, 1]).
 * Calls per run: `steps` gradient passes and one forward pass.
 */
import type { ClassifierEngine } from '../model/engine';
import type { AttackDefinition, AttackProblem, AttackRun, StartPoint, StepHooks } from './algorithm';
import { activeIndices, add, finishRun, pack, startingDeltas } from './batch';
import { isSuccess, objectiveCoefficients, objectiveValue } from './losses';
import { ascend, clampToBox, projectToBall } from './projection';
import type { Random } from './random';
import type { AttackSettings } from './types';

export const DEFAULT_STEPS = 10;

export const pgd: AttackDefinition<'pgd'> = {
  name: 'pgd',
  title: 'PGD (Madry et al.)',
  doc: { paper: 'Madry et al. 2018; Kolter & Madry (plain-gradient `sgd`)', cost: '`steps` gradient + 1 forward' },
  arguments: { steps: '10', stepSize: '2.5·ε/steps', optimizer: 'sign', loss: 'ce', randomStart: 'false' },
  losses: ['ce', 'margin', 'dlr'],
  resolve: (choices) => {
    const steps = choices.steps ?? DEFAULT_STEPS;
    return { steps, stepSize: choices.stepSize ?? (2.5 * choices.epsilon) / steps, optimizer: choices.optimizer ?? 'sign', randomStart: choices.randomStart ?? false };
  },
  budget: (settings) => ({ gradient: settings.steps, forward: 1, of: 'steps' }),
  steps: (settings) => settings.steps,
  run: (engine, problem, settings, start, random, hooks) => pgdRun(engine, problem, settings, start, random, hooks),
};

export async function pgdRun(
  engine: ClassifierEngine,
  problem: AttackProblem,
  settings: AttackSettings,
  start: StartPoint,
  random: Random,
  hooks: StepHooks = {},
): Promise<AttackRun> {
  const { xs, labels, targets } = problem;
  const { norm, epsilon, clamp } = settings;
  const size = xs[0].length;
  const numClasses = engine.info.numClasses;
  const delta = startingDeltas(xs, settings, start, random);
  const latest = problem.cleanLogits.map((z) => z.slice());
  const done = xs.map(() => false);

  for (let step = 0; step < settings.steps; step++) {
    await hooks.beforeStep?.();
    const active = activeIndices(done);
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
  return finishRun(engine, problem, delta, settings.loss);
}
