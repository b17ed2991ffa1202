/**
 * The shared wrapper around every attack's loop (Foolbox's idea: the attack implements its
 * loop, algorithm.ts; one wrapper does the rest): resolves the true label and the target from the clean
 * prediction, runs the restarts and keeps the best δ per sample (success first, then the
 * higher objective, runner.ts, which also checks every δ against the ball and the box), then
 * quantises the adversarial image to 8 bits exactly as it is returned, classifies that
 * again, and — with quantize=refine — takes a few L∞ steps on the 8-bit grid when rounding
 * undid the attack; the 8-bit image goes through the same check, with half a grey level of
 * rounding allowed.
 */
import { toBytes, toUnit } from '../images/unit-pixels';
import type { ClassifierEngine } from '../model/engine';
import { softmax } from '../model/predictions';
import { argmaxExcept, isSuccess, objectiveCoefficients } from './losses';
import { maxProbes, searchMinimalEpsilon, type SearchOutcome } from './minimal';
import type { AttackRun, StepHooks } from './algorithm';
import { add, batchLogits, subtract } from './batch';
import { countingEngine, type CallCounts } from './counting-engine';
import { norms } from './projection';
import { seededRandom } from './random';
import { attackOf } from './registry';
import { assertInBounds, runBatch } from './runner';
import { AttackInputError, type AttackSample, type MinimalSearch, type AttackSettings, type TargetSpec } from './types';

// Math read once per module, not per element: a global lookup inside a hot loop costs
// ~70x more in jest's vm context (the test suite); outside it, nothing changes.
const { floor, sign, sqrt, min: minOf, max: maxOf } = Math;

/** Most grid steps tried when rounding to 8 bits undid the attack. */
export const MAX_REFINE_STEPS = 10;

export interface AttackProgress {
  step: number;
  steps: number;
  /** The minimised objective (tutorial convention) at this step's iterate. */
  loss: number;
  /** Probability of the true class and of the target (null untargeted) at this step's iterate. */
  trueProbability: number;
  targetProbability: number | null;
  /** The radius this step works in (it changes between probes of a minimal-ε search). */
  epsilon: number;
}

export interface AttackHooks {
  beforeStep?: () => Promise<void>;
  onProgress?: (progress: AttackProgress) => void;
}

export interface AttackOutcome {
  label: number;
  target: number | null;
  clean: Float32Array;
  /** x + δ before quantisation; `range` is its [min, max] (outside [0, 1] only with clamp off). */
  adversarial: { x: Float32Array; probabilities: Float32Array; success: boolean; range: [number, number] };
  quantized: { pixels: Uint8Array; probabilities: Float32Array; success: boolean; refineSteps: number };
  perturbation: { linf: number; l2: number };
  quantizedPerturbation: { linf: number; l2: number };
  /** The minimised objective per step, as the tutorial prints it (−CE when untargeted). */
  losses: { step: number; loss: number }[];
  /** With mode=minimal: the smallest ε found and the bracket around it. */
  search: SearchOutcome | null;
  /** Passes the attack's own runs took (restarts and probes included; not the clean pass nor the 8-bit re-check). */
  calls: CallCounts;
}

export async function runAttack(
  engine: ClassifierEngine,
  sample: AttackSample,
  settings: AttackSettings,
  hooks: AttackHooks = {},
  search: MinimalSearch | null = null,
): Promise<AttackOutcome> {
  const random = seededRandom(settings.seed);
  const [cleanLogits] = await batchLogits(engine, [sample.x]);
  const clean = softmax(cleanLogits);
  const label = sample.label ?? argmaxExcept(cleanLogits, -1);
  const target = resolveTarget(sample.target, label, clean, random);
  const problem = { xs: [sample.x], labels: [label], targets: [target], cleanLogits: [cleanLogits] };
  const totalSteps = attackOf(settings.attack).steps(settings) * settings.restarts * (search ? maxProbes(search) : 1);
  const counted = countingEngine(engine);
  const tracker = progressTracker(label, target, cleanLogits, totalSteps, hooks);

  let run: AttackRun;
  let epsilon = settings.epsilon;
  let searchOutcome: SearchOutcome | null = null;
  if (search) {
    const found = await searchMinimalEpsilon(counted.engine, problem, settings, search, random, tracker.hooksAt);
    run = found.run!; // without a known bracket the search always returns its last run
    searchOutcome = found.outcome;
    epsilon = found.outcome.minimalEpsilon ?? search.epsilonMax;
  } else {
    run = await runBatch(counted.engine, problem, settings, random, { hooks: tracker.hooksAt(settings.epsilon) });
  }
  const xAdv = add(sample.x, run.delta[0]);
  const quantized = await quantize(engine, sample.x, xAdv, label, target, { ...settings, epsilon }, hooks);
  const quantizedDelta = subtract(toUnit(quantized.pixels), sample.x);
  // The re-check: rounding moves each pixel by at most half a grey level, refining stays on the grid inside the ball.
  const roundingSlack = (0.5 / 255) * (settings.norm === 'linf' ? 1 : sqrt(sample.x.length));
  assertInBounds(sample.x, quantizedDelta, { ...settings, epsilon: epsilon + roundingSlack, clamp: true });
  return {
    label,
    target,
    clean,
    adversarial: { x: xAdv, probabilities: softmax(run.logits[0]), success: run.success[0], range: range(xAdv) },
    quantized,
    perturbation: norms(run.delta[0]),
    quantizedPerturbation: norms(quantizedDelta),
    losses: tracker.losses,
    search: searchOutcome,
    calls: { ...counted.counts },
  };
}

/** Numbers steps across runs and probes, records the loss curve and reports progress. */
function progressTracker(label: number, target: number | null, cleanLogits: Float32Array, totalSteps: number, hooks: AttackHooks) {
  const losses: AttackOutcome['losses'] = [];
  let taken = 0;
  return {
    losses,
    hooksAt: (epsilon: number): StepHooks => ({
      beforeStep: hooks.beforeStep,
      onStep: (_step, objectives, logits) => {
        const p = softmax(logits[0] ?? cleanLogits);
        const progress = {
          step: taken++,
          steps: totalSteps,
          loss: -objectives[0],
          trueProbability: p[label],
          targetProbability: target === null ? null : p[target],
          epsilon,
        };
        losses.push({ step: progress.step, loss: progress.loss });
        hooks.onProgress?.(progress);
      },
    }),
  };
}

function resolveTarget(spec: TargetSpec, label: number, clean: Float32Array, random: ReturnType<typeof seededRandom>): number | null {
  switch (spec.kind) {
    case 'none':
      return null;
    case 'class':
      if (spec.classIndex === label) throw new AttackInputError('target', `the target ${spec.classIndex} is the true label; choose another class`);
      return spec.classIndex;
    case 'random': {
      const pick = random.int(clean.length - 1);
      return pick >= label ? pick + 1 : pick; // uniform over the classes other than the label
    }
    case 'least-likely': {
      let low = label === 0 ? 1 : 0;
      for (let k = 0; k < clean.length; k++) if (k !== label && clean[k] < clean[low]) low = k;
      return low;
    }
  }
}

/** Rounds x_adv to the 8-bit grid (clipped to [0, 1]) and, if that undid the attack, refines on the grid. */
async function quantize(
  engine: ClassifierEngine,
  x: Float32Array,
  xAdv: Float32Array,
  label: number,
  target: number | null,
  settings: AttackSettings,
  hooks: AttackHooks,
): Promise<AttackOutcome['quantized']> {
  const pixels = toBytes(xAdv);
  let [logits] = await batchLogits(engine, [toUnit(pixels)]);
  let refineSteps = 0;
  const levels = floor(settings.epsilon * 255 + 1e-6); // the largest grid step inside the L∞ ball
  if (settings.quantize === 'refine' && settings.norm === 'linf' && levels >= 1) {
    const original = toBytes(x);
    while (!isSuccess(logits, label, target) && refineSteps < MAX_REFINE_STEPS) {
      await hooks.beforeStep?.();
      const coefficients = objectiveCoefficients(settings.loss, [label], [target], [logits], engine.info.numClasses);
      const { gradient } = await engine.lossGradient({ data: toUnit(pixels), count: 1 }, coefficients);
      for (let i = 0; i < pixels.length; i++) {
        const d = minOf(levels, maxOf(-levels, pixels[i] - original[i] + sign(gradient[i])));
        pixels[i] = minOf(255, maxOf(0, original[i] + d));
      }
      refineSteps++;
      [logits] = await batchLogits(engine, [toUnit(pixels)]);
    }
  }
  return { pixels, probabilities: softmax(logits), success: isSuccess(logits, label, target), refineSteps };
}

function range(values: Float32Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

