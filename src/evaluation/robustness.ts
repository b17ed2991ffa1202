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
 * With `attacks` other than pgd alone, the evaluation is AutoAttack's worst case: at each
 * ε the attacks run in order, each only on the images still correctly classified (an
 * image broken at a smaller ε stays broken), early-stopped, and each image records which
 * attack broke it. The minimal-ε search stays PGD's bisection, warm-started from the δ
 * that broke the image, whichever attack found it.
 * A pure function of the engine: the CLI runs it on a local engine, the service through
 * the model worker's queue.
 */
import type { AttackProblem, StartPoint } from '../attacks/algorithm';
import { batchLogits } from '../attacks/batch';
import { settingsFor, type AttackChoices } from '../attacks/defaults';
import { searchMinimalEpsilon } from '../attacks/minimal';
import { seededRandom, type Random } from '../attacks/random';
import { runBatch } from '../attacks/runner';
import { beats } from '../attacks/subset';
import type { AttackName, AttackSettings } from '../attacks/types';
import type { ClassifierEngine } from '../model/engine';

export interface EvaluationImage {
  name: string;
  /** RGB HWC in [0, 1] at the engine's input size. */
  x: Float32Array;
  label: number;
}

export interface EvaluationSettings {
  /** The attacks in order; `['pgd']` is the plain PGD evaluation, anything else the worst case over them. */
  attacks: AttackName[];
  /** The request's choices, shared by the attacks (missing ones: each attack's default; epsilon: each grid point). */
  choices: Omit<AttackChoices, 'epsilon' | 'earlyStop' | 'quantize'>;
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
  /** The attack now running (phase attack). */
  attack: AttackName | null;
}

export interface ImagePoint {
  prediction: number;
  loss: number;
  correct: boolean;
}

/** Who broke an image: `clean` when it was misclassified without an attack, else the attack's name; null: nobody. */
export type BrokenBy = AttackName | 'clean' | null;

export interface ImageReport {
  name: string;
  label: number;
  clean: ImagePoint & { probability: number };
  atEpsilon: (ImagePoint & { epsilon: number; brokenBy: BrokenBy })[];
  /** Smallest ε found that flips it (0: misclassified already); null: not flipped up to the largest ε. */
  minimalEpsilon: number | null;
  /** The largest ε tried that failed (0 if none did). */
  lowerBound: number;
}

export interface EpsilonReport {
  epsilon: number;
  robustAccuracy: number;
  adversarialRisk: number;
  successRate: number;
  /** Images each attack broke at this ε (those broken at a smaller ε included, under the attack that did it). */
  brokenBy: Partial<Record<AttackName, number>>;
}

export interface EvaluationResult {
  count: number;
  cleanAccuracy: number;
  empiricalRisk: number;
  epsilons: EpsilonReport[];
  images: ImageReport[];
}

export interface EvaluationHooks {
  onProgress?: (progress: EvaluationProgress) => void;
  /** Before every engine call: the place to throw on cancel. */
  beforeStep?: () => Promise<void>;
}

/** Where each image stands: its worst point so far and the δ that reached it. */
interface ImageState {
  cleanLogits: Float32Array;
  worst: ImagePoint;
  brokenBy: BrokenBy;
  /** First δ (and its ε) that flipped the image, for the minimal search's warm start. */
  flipped: { epsilon: number; delta: Float32Array } | null;
  delta: Float32Array;
}

/** The attack settings at one ε. */
export function settingsAt(settings: Pick<EvaluationSettings, 'choices'>, attack: AttackName, epsilon: number, earlyStop: boolean): AttackSettings {
  return settingsFor(attack, { ...settings.choices, epsilon, earlyStop, quantize: 'round' });
}

export const isPlainPgd = (attacks: AttackName[]): boolean => attacks.length === 1 && attacks[0] === 'pgd';

export async function evaluateRobustness(engine: ClassifierEngine, images: EvaluationImage[], settings: EvaluationSettings, hooks: EvaluationHooks = {}): Promise<EvaluationResult> {
  const epsilons = [...settings.epsilons].sort((a, b) => a - b);
  const random = seededRandom(settings.choices.seed);
  const batchSize = Math.max(1, settings.batchSize);
  const total = images.length * (epsilons.length + (settings.tolerance === null ? 0 : 1));
  let done = 0;
  const report = (phase: EvaluationProgress['phase'], epsilon: number | null, units: number, attack: AttackName | null = null) => {
    done += units;
    hooks.onProgress?.({ phase, done, total, epsilon, attack });
  };

  // Clean predictions and losses.
  const reports: ImageReport[] = [];
  const states: ImageState[] = [];
  for (const batch of chunk(images.map((_, i) => i), batchSize)) {
    await hooks.beforeStep?.();
    const logits = await batchLogits(engine, batch.map((i) => images[i].x));
    batch.forEach((i, j) => {
      const point = pointOf(logits[j], images[i].label);
      reports[i] = { name: images[i].name, label: images[i].label, clean: { ...point, probability: Math.exp(-point.loss) }, atEpsilon: [], minimalEpsilon: null, lowerBound: 0 };
      const zero = new Float32Array(images[i].x.length);
      states[i] = { cleanLogits: logits[j], worst: point, brokenBy: point.correct ? null : 'clean', flipped: point.correct ? null : { epsilon: 0, delta: zero }, delta: zero };
    });
  }
  report('clean', null, 0);

  const batches = chunk(images.map((_, i) => i), batchSize);
  for (const [k, epsilon] of epsilons.entries()) {
    if (isPlainPgd(settings.attacks)) {
      // Every image, every ε: the smallest ball starts as the attack says, each larger one from the worst δ so far.
      const at = settingsAt(settings, 'pgd', epsilon, false);
      for (const batch of batches) {
        const first: StartPoint = k > 0 ? { from: batch.map((i) => states[i].delta) } : at.randomStart ? 'random' : 'zero';
        await attackBatch(engine, images, states, batch, at, first, random, hooks);
        report('attack', epsilon, batch.length, 'pgd');
      }
    } else {
      report('attack', epsilon, states.filter((s) => !s.worst.correct).length, settings.attacks[0]);
      for (const [n, attack] of settings.attacks.entries()) {
        const at = settingsAt(settings, attack, epsilon, true);
        const pending = images.map((_, i) => i).filter((i) => states[i].worst.correct);
        for (const batch of chunk(pending, batchSize)) {
          await attackBatch(engine, images, states, batch, at, at.randomStart ? 'random' : 'zero', random, hooks);
          const last = n === settings.attacks.length - 1;
          report('attack', epsilon, batch.filter((i) => last || !states[i].worst.correct).length, attack);
        }
      }
    }
    for (const i of images.keys()) {
      if (!states[i].worst.correct && !states[i].flipped) states[i].flipped = { epsilon, delta: states[i].delta.slice() };
      reports[i].atEpsilon.push({ epsilon, ...states[i].worst, brokenBy: states[i].brokenBy });
    }
  }

  if (settings.tolerance !== null) {
    for (const [i, image] of images.entries()) {
      const flipped = states[i].flipped;
      if (!flipped) {
        reports[i].lowerBound = epsilons.at(-1) ?? 0;
      } else if (flipped.epsilon > 0) {
        const below = epsilons.filter((e) => e < flipped.epsilon).at(-1) ?? 0;
        const at = settingsAt(settings, 'pgd', flipped.epsilon, true);
        const problem: AttackProblem = { xs: [image.x], labels: [image.label], targets: [null], cleanLogits: [states[i].cleanLogits] };
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
      brokenBy: Object.fromEntries(settings.attacks.map((a) => [a, reports.filter((r) => r.atEpsilon[k].brokenBy === a).length])),
    })),
    images: reports,
  };
}

/**
 * One attack on one batch at one ε through the runner (restarts: later runs from random
 * starts; early-stopped, only on the images still correct), folding every iterate into each
 * image's worst point: a misclassified point beats a correct one, then the higher loss. The
 * image that turns misclassified is marked broken by this attack.
 */
async function attackBatch(
  engine: ClassifierEngine,
  images: EvaluationImage[],
  states: ImageState[],
  batch: number[],
  settings: AttackSettings,
  first: StartPoint,
  random: Random,
  hooks: EvaluationHooks,
): Promise<void> {
  const problem: AttackProblem = {
    xs: batch.map((i) => images[i].x),
    labels: batch.map((i) => images[i].label),
    targets: batch.map(() => null),
    cleanLogits: batch.map((i) => states[i].cleanLogits),
  };
  const consider = (j: number, logits: Float32Array, delta: Float32Array): void => {
    const state = states[batch[j]];
    const point = pointOf(logits, images[batch[j]].label);
    if (!worse(point, state.worst)) return;
    if (state.worst.correct && !point.correct) state.brokenBy = settings.attack;
    state.worst = point;
    state.delta = delta.slice();
  };
  await runBatch(engine, problem, settings, random, {
    first,
    untilSuccess: settings.earlyStop,
    broken: (j) => !states[batch[j]].worst.correct,
    hooks: {
      beforeStep: hooks.beforeStep,
      onStep: (_step, _objectives, logits, deltas) => logits.forEach((z, j) => z && consider(j, z, deltas[j]!)),
    },
    onRun: (run, members) => members.forEach((i, j) => consider(i, run.logits[j], run.delta[j])),
  });
}

/** Misclassified is the attack's success and the loss its objective: the runner's rule for the best run. */
const worse = (a: ImagePoint, b: ImagePoint): boolean => beats(!a.correct, a.loss, !b.correct, b.loss);

/** Top-1 and cross-entropy of the label from logits. */
export function pointOf(logits: Float32Array, label: number): ImagePoint {
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

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
