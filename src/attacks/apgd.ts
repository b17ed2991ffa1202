/**
 * apgd-ce, apgd-dlr — Auto-PGD. Croce & Hein, "Reliable evaluation of adversarial
 * robustness with an ensemble of diverse parameter-free attacks" (ICML 2020), Algorithm 1.
 *
 * Norm: L∞ or L2, radius ε. Arguments: steps N (default 10: N gradient passes, then one
 * forward pass at the last iterate — the budget of PGD with the same steps), randomStart
 * (default true, as AutoAttack starts), earlyStop (default false), clamp (default true).
 * Fixed by the paper, not arguments: the step η starts at 2ε; momentum α = 0.75
 * (x_{k+1} = P(x_k + α(z_{k+1} − x_k) + (1 − α)(x_k − x_{k−1})), z_{k+1} = P(x_k + η·sign ∇)
 * for L∞, η·∇/‖∇‖₂ for L2); checkpoints at w_j = ⌈p_j·N⌉ with p₀ = 0, p₁ = 0.22,
 * p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06); at a checkpoint η halves, per sample, when
 * fewer than ρ = 0.75 of the steps since the last checkpoint raised the loss, or when η was
 * not halved at the last checkpoint and the best loss has not improved since; a halving
 * restarts the iterate from the best point found (momentum reset there).
 * The loss: cross-entropy (apgd-ce) or the DLR ratio (apgd-dlr; losses.ts), untargeted, or
 * targeted when the request names a target. A run returns, per sample, the first point
 * that met the success criterion, else the point of the highest loss.
 */
import type { ClassifierEngine } from '../model/engine';
import type { AttackChoices, AttackDefinition, AttackProblem, AttackRun, StartPoint, StepHooks } from './algorithm';
import { activeIndices, add, batchLogits, pack, startingDeltas } from './batch';
import { isSuccess, objectiveCoefficients, objectiveValue } from './losses';
import { DEFAULT_STEPS } from './pgd';
import { ascend, clampToBox, projectToBall } from './projection';
import type { Random } from './random';
import type { AttackSettings, LossKind } from './types';

// Math read once per module, not per element: a global lookup inside a hot loop costs
// ~70x more in jest's vm context (the test suite); outside it, nothing changes.
const { floor, max } = Math;

export const MOMENTUM = 0.75;
export const RHO = 0.75;

/** The arguments of every APGD: N steps, a random start as AutoAttack starts; η starts at 2ε (reported as the step size). */
export const APGD_ARGUMENTS = { steps: '10', randomStart: 'true' };
export const resolveApgd = (choices: AttackChoices) => ({ steps: choices.steps ?? DEFAULT_STEPS, stepSize: 2 * choices.epsilon, randomStart: choices.randomStart ?? true });

export const apgdCe: AttackDefinition<'apgd-ce'> = {
  name: 'apgd-ce',
  title: 'APGD-CE (Auto-PGD)',
  doc: {
    paper: 'Croce & Hein 2020 (Auto-PGD)',
    fixed:
      'step 2ε, momentum 0.75, checkpoints p₀ = 0, p₁ = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06), η halves when fewer than ρ = 0.75 of the steps since the last checkpoint raised the loss (or it was not halved last time and the best loss did not improve), restarting from the best point',
    cost: "`steps` gradient + 1 forward (PGD's budget)",
  },
  arguments: APGD_ARGUMENTS,
  losses: ['ce'],
  resolve: resolveApgd,
  budget: (settings) => ({ gradient: settings.steps, forward: 1, of: 'steps' }),
  steps: (settings) => settings.steps,
  run: (engine, problem, settings, start, random, hooks) => apgdRun(engine, problem, { ...settings, loss: 'ce' }, start, random, hooks),
};

export const apgdDlr: AttackDefinition<'apgd-dlr'> = {
  ...apgdCe,
  name: 'apgd-dlr',
  title: 'APGD-DLR',
  losses: ['dlr'],
  run: (engine, problem, settings, start, random, hooks) => apgdRun(engine, problem, { ...settings, loss: 'dlr' }, start, random, hooks),
};

/**
 * The iterations (1-based: after the k-th step) at which APGD checks its step size, for N
 * steps: the paper's ⌈p_j·N⌉ in integer steps as the reference code counts them (first
 * after 0.22·N steps, then each gap 0.03·N shorter, never under 0.06·N; at least 1).
 */
export function apgdCheckpoints(steps: number): number[] {
  const first = max(floor(0.22 * steps), 1);
  const shrink = max(floor(0.03 * steps), 1);
  const shortest = max(floor(0.06 * steps), 1);
  const out: number[] = [];
  for (let at = first, gap = first; at <= steps; gap = max(gap - shrink, shortest), at += gap) out.push(at);
  return out;
}

/** What APGD keeps per sample. */
interface SampleState {
  delta: Float32Array;
  previous: Float32Array;
  gradient: Float32Array;
  logits: Float32Array;
  eta: number;
  best: { loss: number; delta: Float32Array; gradient: Float32Array; logits: Float32Array };
  adversarial: { delta: Float32Array; logits: Float32Array } | null;
  /** Loss at every iterate so far (x₀ first). */
  losses: number[];
  lastCheck: { at: number; bestLoss: number; halved: boolean };
}

/** Extra knobs for APGD-T: the classes its targeted loss aims at (the success criterion stays the problem's). */
export interface ApgdOptions {
  lossTargets?: (number | null)[];
  /** The objective reported for the returned point (default: the run's own loss). */
  objective?: (logits: Float32Array, sample: number) => number;
  /** After each checkpoint test, per sample (for tests and diagnostics): whether η halved, η now, the loss there and the best point. */
  onCheckpoint?: (step: number, sample: number, check: { halved: boolean; eta: number; loss: number; best: { loss: number; delta: Float32Array } }) => void;
}

export async function apgdRun(
  engine: ClassifierEngine,
  problem: AttackProblem,
  settings: AttackSettings & { loss: LossKind },
  start: StartPoint,
  random: Random,
  hooks: StepHooks = {},
  options: ApgdOptions = {},
): Promise<AttackRun> {
  const { xs, labels, targets } = problem;
  const { norm, epsilon, clamp, steps, loss } = settings;
  const lossTargets = options.lossTargets ?? targets;
  const numClasses = engine.info.numClasses;
  const size = xs[0].length;
  const lossOf = (z: Float32Array, i: number): number => objectiveValue(loss, z, labels[i], lossTargets[i]);
  const checkpoints = new Set(apgdCheckpoints(steps));
  const done = xs.map(() => false);
  const states: SampleState[] = [];

  /** Forward (and, while steps remain, gradient) at each active sample's current δ. */
  const evaluate = async (active: number[], deltas: Float32Array[], withGradient: boolean) => {
    const images = active.map((i) => add(xs[i], deltas[i]));
    if (!withGradient) return { logits: await batchLogits(engine, images), gradient: null };
    const latest = active.map((i) => states[i]?.logits ?? problem.cleanLogits[i]);
    const out = await engine.lossGradient(pack(images), objectiveCoefficients(loss, active.map((i) => labels[i]), active.map((i) => lossTargets[i]), latest, numClasses));
    return { logits: active.map((_, j) => out.logits.slice(j * numClasses, (j + 1) * numClasses)), gradient: out.gradient };
  };
  const project = (i: number, d: Float32Array): void => {
    projectToBall(d, norm, epsilon);
    if (clamp) clampToBox(xs[i], d);
  };

  // x₀ and its gradient.
  const initial = startingDeltas(xs, settings, start, random);
  await hooks.beforeStep?.();
  const all = activeIndices(done);
  const first = await evaluate(all, initial, true);
  all.forEach((i, j) => {
    const logits = first.logits[j];
    const gradient = first.gradient!.slice(j * size, (j + 1) * size);
    const l = lossOf(logits, i);
    states[i] = {
      delta: initial[i],
      previous: initial[i],
      gradient,
      logits,
      eta: 2 * epsilon,
      best: { loss: l, delta: initial[i], gradient, logits },
      adversarial: isSuccess(logits, labels[i], targets[i]) ? { delta: initial[i], logits } : null,
      losses: [l],
      lastCheck: { at: 0, bestLoss: l, halved: true }, // the reference's start: condition 2 cannot fire at the first checkpoint
    };
    if (settings.earlyStop && states[i].adversarial) done[i] = true;
  });
  report(hooks, 0, xs.length, all, states);

  for (let k = 1; k <= steps; k++) {
    const active = activeIndices(done);
    if (active.length === 0) break;
    for (const i of active) states[i] = { ...states[i], ...step(states[i], k === 1 ? 1 : MOMENTUM, settings, (d) => project(i, d)) };
    await hooks.beforeStep?.();
    const out = await evaluate(active, states.map((st) => st.delta), k < steps);
    active.forEach((i, j) => {
      const s = states[i];
      s.logits = out.logits[j];
      if (out.gradient) s.gradient = out.gradient.slice(j * size, (j + 1) * size);
      const l = lossOf(s.logits, i);
      s.losses.push(l);
      if (l > s.best.loss) s.best = { loss: l, delta: s.delta, gradient: s.gradient, logits: s.logits };
      if (!s.adversarial && isSuccess(s.logits, labels[i], targets[i])) {
        s.adversarial = { delta: s.delta, logits: s.logits };
        if (settings.earlyStop) done[i] = true;
      }
    });
    if (k < steps) report(hooks, k, xs.length, active, states);
    if (checkpoints.has(k)) {
      for (const i of active) {
        const loss = states[i].losses[k];
        const halved = checkStepSize(states[i], k);
        options.onCheckpoint?.(k, i, { halved, eta: states[i].eta, loss, best: { loss: states[i].best.loss, delta: states[i].best.delta } });
      }
    }
  }

  const chosen = states.map((s) => s.adversarial ?? { delta: s.best.delta, logits: s.best.logits });
  return {
    delta: chosen.map((c) => c.delta),
    logits: chosen.map((c) => c.logits),
    success: chosen.map((c, i) => isSuccess(c.logits, labels[i], targets[i])),
    objective: chosen.map((c, i) => (options.objective ?? lossOf)(c.logits, i)),
  };
}

/** One APGD step from the sample's iterate: the gradient step, then the momentum blend, each projected. */
function step(s: SampleState, alpha: number, settings: AttackSettings, project: (d: Float32Array) => void): Pick<SampleState, 'delta' | 'previous'> {
  const z = s.delta.slice();
  ascend(z, s.gradient, 'sign', settings.norm, s.eta);
  project(z);
  const next = new Float32Array(z.length);
  for (let n = 0; n < z.length; n++) next[n] = s.delta[n] + alpha * (z[n] - s.delta[n]) + (1 - alpha) * (s.delta[n] - s.previous[n]);
  project(next);
  return { delta: next, previous: s.delta };
}

/** The checkpoint test (conditions 1 and 2 of the paper); on failure η halves and the iterate restarts from the best point. */
function checkStepSize(s: SampleState, k: number): boolean {
  const since = k - s.lastCheck.at;
  let increases = 0;
  for (let j = s.lastCheck.at + 1; j <= k; j++) if (s.losses[j] > s.losses[j - 1]) increases++;
  const oscillating = increases < RHO * since;
  const stalled = !s.lastCheck.halved && s.best.loss <= s.lastCheck.bestLoss;
  const halve = oscillating || stalled;
  s.lastCheck = { at: k, bestLoss: s.best.loss, halved: halve };
  if (!halve) return false;
  s.eta /= 2;
  s.delta = s.best.delta;
  s.previous = s.best.delta;
  s.gradient = s.best.gradient;
  s.logits = s.best.logits;
  return true;
}

function report(hooks: StepHooks, stepIndex: number, count: number, active: number[], states: SampleState[]): void {
  if (!hooks.onStep) return;
  const objectives = Array.from({ length: count }, () => NaN);
  const logits: (Float32Array | null)[] = Array.from({ length: count }, () => null);
  const deltas: (Float32Array | null)[] = Array.from({ length: count }, () => null);
  for (const i of active) {
    objectives[i] = states[i].losses.at(-1)!;
    logits[i] = states[i].logits;
    deltas[i] = states[i].delta.slice();
  }
  hooks.onStep(stepIndex, objectives, logits, deltas);
}
