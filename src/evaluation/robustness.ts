/**
 * Robustness of a classifier on a labelled set, in the terms of Kolter & Madry's tutorial:
 * - empirical risk: the mean cross-entropy on the clean images;
 * - adversarial risk at ε: the mean of the worst cross-entropy PGD found within the ε-ball
 *   (a lower bound on the true worst case: PGD is a heuristic);
 * - robust accuracy at ε: the share of images still classified correctly at the worst point
 *   found; attack success rate: the share of correctly classified images the attack flipped;
 * - per image, the minimal ε: bisection between the grid point where the image first fell
 *   and the one below it (attacks/minimal.ts), warm-started from the grid's δ.
 * The ε grid runs in ascending order and each radius starts from the previous one's worst δ;
 * what a smaller ball holds is inside a larger one, so the worst case found at ε counts for
 * every larger ε: adversarial risk never decreases with ε, and is never below the
 * empirical risk (δ = 0 is in every ball). Untargeted only.
 * A pure function of the engine: the CLI runs it on a local engine, the service through
 * the model worker's queue.
 */
import { searchMinimalEpsilon } from '../attacks/minimal';
import { batchLogits, pgdRun, type PgdProblem, type StartPoint } from '../attacks/pgd';
import { seededRandom, type Random } from '../attacks/random';
import type { PgdSettings } from '../attacks/types';
import type { ClassifierEngine } from '../model/engine';

export interface EvaluationImage {
  name: string;
  /** RGB HWC in [0, 1] at the engine's input size. */
  x: Float32Array;
  label: number;
}

export interface EvaluationSettings {
  /** The attack at each ε; stepSize null: 2.5·ε/steps for each ε. epsilon, earlyStop and quantize are not used. */
  attack: Omit<PgdSettings, 'epsilon' | 'stepSize' | 'earlyStop' | 'quantize'> & { stepSize: number | null };
  epsilons: number[];
  /** The minimal-ε search's tolerance; null: no search (minimalEpsilon from the grid only). */
  tolerance: number | null;
  /** Images per engine call. */
  batchSize: number;
}

export interface EvaluationProgress {
  phase: 'clean' | 'attack' | 'minimal';
  /** Work units done and in all: one per image per ε, plus one per image searched. */
  done: number;
  total: number;
  epsilon: number | null;
}

export interface ImagePoint {
  prediction: number;
  loss: number;
  correct: boolean;
}

export interface ImageReport {
  name: string;
  label: number;
  clean: ImagePoint & { probability: number };
  atEpsilon: (ImagePoint & { epsilon: number })[];
  /** Smallest ε found that flips it (0: misclassified already); null: not flipped up to the largest ε. */
  minimalEpsilon: number | null;
  /** The largest ε tried that failed (0 if none did). */
  lowerBound: number;
}

export interface EvaluationResult {
  count: number;
  cleanAccuracy: number;
  empiricalRisk: number;
  epsilons: { epsilon: number; robustAccuracy: number; adversarialRisk: number; successRate: number }[];
  images: ImageReport[];
}

export interface EvaluationHooks {
  onProgress?: (progress: EvaluationProgress) => void;
  /** Before every engine call: the place to throw on cancel. */
  beforeStep?: () => Promise<void>;
}

/** Where each image stands: its worst point so far and the δ that reached it. */
interface ImageState {
  worst: ImagePoint;
  /** First δ (and its ε) that flipped the image, for the minimal search's warm start. */
  flipped: { epsilon: number; delta: Float32Array } | null;
  delta: Float32Array;
}

export async function evaluateRobustness(engine: ClassifierEngine, images: EvaluationImage[], settings: EvaluationSettings, hooks: EvaluationHooks = {}): Promise<EvaluationResult> {
  const epsilons = [...settings.epsilons].sort((a, b) => a - b);
  const random = seededRandom(settings.attack.seed);
  const batches = chunk(images.map((_, i) => i), settings.batchSize);
  const total = images.length * (epsilons.length + (settings.tolerance === null ? 0 : 1));
  let done = 0;
  const report = (phase: EvaluationProgress['phase'], epsilon: number | null, units: number) => {
    done += units;
    hooks.onProgress?.({ phase, done, total, epsilon });
  };

  // Clean predictions and losses.
  const reports: ImageReport[] = [];
  const states: ImageState[] = [];
  for (const batch of batches) {
    await hooks.beforeStep?.();
    const logits = await batchLogits(engine, batch.map((i) => images[i].x));
    batch.forEach((i, j) => {
      const point = pointOf(logits[j], images[i].label);
      reports[i] = { name: images[i].name, label: images[i].label, clean: { ...point, probability: Math.exp(-point.loss) }, atEpsilon: [], minimalEpsilon: null, lowerBound: 0 };
      states[i] = { worst: point, flipped: point.correct ? null : { epsilon: 0, delta: new Float32Array(images[i].x.length) }, delta: new Float32Array(images[i].x.length) };
    });
  }
  report('clean', null, 0);

  for (const [k, epsilon] of epsilons.entries()) {
    const at: PgdSettings = { ...settings.attack, epsilon, stepSize: settings.attack.stepSize ?? (2.5 * epsilon) / settings.attack.steps, earlyStop: false, quantize: 'round' };
    for (const batch of batches) {
      // The smallest ball starts as the attack says; each larger one from the worst δ so far.
      const first: StartPoint = k > 0 ? { from: batch.map((i) => states[i].delta) } : settings.attack.randomStart ? 'random' : 'zero';
      await attackBatch(engine, images, states, batch, at, first, random, hooks);
      for (const i of batch) {
        if (!states[i].worst.correct && !states[i].flipped) states[i].flipped = { epsilon, delta: states[i].delta.slice() };
        reports[i].atEpsilon.push({ epsilon, ...states[i].worst });
      }
      report('attack', epsilon, batch.length);
    }
  }

  if (settings.tolerance !== null) {
    for (const [i, image] of images.entries()) {
      const flipped = states[i].flipped;
      if (!flipped) {
        reports[i].lowerBound = epsilons.at(-1) ?? 0;
      } else if (flipped.epsilon > 0) {
        const below = epsilons.filter((e) => e < flipped.epsilon).at(-1) ?? 0;
        const at: PgdSettings = { ...settings.attack, epsilon: flipped.epsilon, stepSize: settings.attack.stepSize ?? (2.5 * flipped.epsilon) / settings.attack.steps, earlyStop: true, quantize: 'round' };
        const problem: PgdProblem = { xs: [image.x], labels: [image.label], targets: [null], cleanLogits: [new Float32Array(engine.info.numClasses)] };
        const search = { epsilonMax: flipped.epsilon, tolerance: settings.tolerance };
        const { outcome } = await searchMinimalEpsilon(engine, problem, at, search, random, () => ({ beforeStep: hooks.beforeStep }), { low: below, high: flipped.epsilon, from: [flipped.delta] });
        reports[i].minimalEpsilon = outcome.minimalEpsilon;
        reports[i].lowerBound = outcome.lowerBound;
      } else {
        reports[i].minimalEpsilon = 0;
      }
      report('minimal', null, 1);
    }
  } else {
    for (const [i, state] of states.entries()) {
      reports[i].minimalEpsilon = state.flipped?.epsilon ?? null;
      reports[i].lowerBound = state.flipped ? (epsilons.filter((e) => e < state.flipped!.epsilon).at(-1) ?? 0) : (epsilons.at(-1) ?? 0);
    }
  }

  const mean = (values: number[]): number => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
  const cleanCorrect = reports.filter((r) => r.clean.correct);
  return {
    count: images.length,
    cleanAccuracy: mean(reports.map((r) => Number(r.clean.correct))),
    empiricalRisk: mean(reports.map((r) => r.clean.loss)),
    epsilons: epsilons.map((epsilon, k) => ({
      epsilon,
      robustAccuracy: mean(reports.map((r) => Number(r.atEpsilon[k].correct))),
      adversarialRisk: mean(reports.map((r) => r.atEpsilon[k].loss)),
      successRate: mean(cleanCorrect.map((r) => Number(!r.atEpsilon[k].correct))),
    })),
    images: reports,
  };
}

/**
 * PGD on one batch at one ε (restarts: later runs from random starts), folding every
 * iterate into each image's worst point: a misclassified point beats a correct one, then
 * the higher loss. The first run starts from the image's worst δ so far.
 */
async function attackBatch(
  engine: ClassifierEngine,
  images: EvaluationImage[],
  states: ImageState[],
  batch: number[],
  settings: PgdSettings,
  first: StartPoint,
  random: Random,
  hooks: EvaluationHooks,
): Promise<void> {
  const problem: PgdProblem = {
    xs: batch.map((i) => images[i].x),
    labels: batch.map((i) => images[i].label),
    targets: batch.map(() => null),
    cleanLogits: batch.map(() => new Float32Array(engine.info.numClasses)),
  };
  const consider = (j: number, logits: Float32Array, delta: Float32Array): void => {
    const state = states[batch[j]];
    const point = pointOf(logits, images[batch[j]].label);
    if (worse(point, state.worst)) {
      state.worst = point;
      state.delta = delta.slice();
    }
  };
  for (let run = 0; run < settings.restarts; run++) {
    const start: StartPoint = run > 0 ? 'random' : first;
    const result = await pgdRun(engine, problem, settings, start, random, {
      beforeStep: hooks.beforeStep,
      onStep: (_step, _objectives, logits, deltas) => logits.forEach((z, j) => z && consider(j, z, deltas[j]!)),
    });
    result.logits.forEach((z, j) => consider(j, z, result.delta[j]));
  }
}

function worse(a: ImagePoint, b: ImagePoint): boolean {
  return a.correct !== b.correct ? !a.correct : a.loss > b.loss;
}

/** Top-1 and cross-entropy of the label from logits. */
function pointOf(logits: Float32Array, label: number): ImagePoint {
  let max = -Infinity;
  let top = 0;
  for (let k = 0; k < logits.length; k++) {
    if (logits[k] > max) {
      max = logits[k];
      top = k;
    }
  }
  let sum = 0;
  for (const z of logits) sum += Math.exp(z - max);
  return { prediction: top, loss: max + Math.log(sum) - logits[label], correct: top === label };
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
