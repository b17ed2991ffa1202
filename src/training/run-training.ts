import { seededRandom } from '../attacks/random';
import { evaluateRobustness, type EvaluationImage } from '../evaluation/robustness';
import type { ClassifierEngine } from '../model/engine';
import type { TrainableEngine } from '../model/trainable';
import { trainAdversarially, type BatchReport, type EpochReport, type TrainingImage } from './adversarial-training';
import { holdoutSplit } from './split';
import type { TrainingSettings } from '../contract/training-params';

/** Clean and PGD-10 figures of one split at the training ε. */
export interface SplitScore {
  count: number;
  cleanAccuracy: number;
  empiricalRisk: number;
  robustAccuracy: number;
  adversarialRisk: number;
}

export interface TrainingReport {
  split: { train: string[]; holdout: string[] };
  before: { train: SplitScore; holdout: SplitScore | null };
  after: { train: SplitScore; holdout: SplitScore | null };
  epochs: EpochReport[];
  /** Wall-clock seconds: the two scorings and the training. */
  seconds: { before: number; training: number; after: number };
}

export type TrainingProgress =
  | { phase: 'before' | 'after'; split: 'train' | 'holdout'; done: number; total: number }
  | ({ phase: 'training' } & BatchReport)
  | ({ phase: 'epoch' } & EpochReport);

export interface RunHooks {
  onProgress?: (progress: TrainingProgress) => void;
  beforeStep?: () => Promise<void>;
}

export const REPORT_ATTACK_STEPS = 10;

/**
 * One training job, the same from the API and the CLI: split the images, score both splits
 * (clean and PGD-10 at the training ε, seeded), train the engine's parameters in place, score
 * again. Saving the result as a model is the caller's.
 */
export async function runTraining(engine: TrainableEngine, images: (TrainingImage & { name: string })[], settings: TrainingSettings, hooks: RunHooks = {}): Promise<TrainingReport> {
  const { train, holdout } = holdoutSplit(images.map((i) => i.label), settings.holdout, settings.seed);
  const trainSet = train.map((i) => images[i]);
  const holdoutSet = holdout.map((i) => images[i]);
  const score = async (phase: 'before' | 'after'): Promise<{ train: SplitScore; holdout: SplitScore | null }> => {
    const scorer = (await engine.snapshot?.()) ?? engine;
    try {
      return {
        train: await scoreSplit(scorer, trainSet, settings, (done, total) => hooks.onProgress?.({ phase, split: 'train', done, total }), hooks),
        holdout: holdoutSet.length ? await scoreSplit(scorer, holdoutSet, settings, (done, total) => hooks.onProgress?.({ phase, split: 'holdout', done, total }), hooks) : null,
      };
    } finally {
      if (scorer !== engine) scorer.dispose();
    }
  };
  let t = performance.now();
  const lap = (): number => {
    const seconds = (performance.now() - t) / 1000;
    t = performance.now();
    return seconds;
  };
  const before = await score('before');
  const beforeSeconds = lap();
  const epochs = await trainAdversarially(engine, trainSet, settings, {
    beforeStep: hooks.beforeStep,
    onBatch: (report) => hooks.onProgress?.({ phase: 'training', ...report }),
    onEpoch: (report) => hooks.onProgress?.({ phase: 'epoch', ...report }),
  });
  const trainingSeconds = lap();
  const after = await score('after');
  return {
    split: { train: trainSet.map((i) => i.name), holdout: holdoutSet.map((i) => i.name) },
    before,
    after,
    epochs,
    seconds: { before: beforeSeconds, training: trainingSeconds, after: lap() },
  };
}

/** Clean accuracy and risk, and PGD-10 (sign steps, same norm and ε, seeded) robust accuracy and adversarial risk. */
async function scoreSplit(engine: ClassifierEngine, images: (TrainingImage & { name: string })[], settings: TrainingSettings, onDone: (done: number, total: number) => void, hooks: RunHooks): Promise<SplitScore> {
  const evaluation = await evaluateRobustness(
    engine,
    images.map((i): EvaluationImage => ({ name: i.name, x: i.x, label: i.label })),
    {
      attacks: ['pgd'],
      choices: { norm: settings.norm, steps: REPORT_ATTACK_STEPS, restarts: 1, clamp: true, seed: seededRandom(settings.seed).int(2 ** 32), optimizer: 'sign', loss: 'ce', randomStart: false },
      epsilons: [settings.epsilon],
      tolerance: null,
      batchSize: settings.batchSize,
    },
    { beforeStep: hooks.beforeStep, onProgress: (p) => onDone(p.done, p.total) },
  );
  const at = evaluation.epsilons[0];
  return { count: evaluation.count, cleanAccuracy: evaluation.cleanAccuracy, empiricalRisk: evaluation.empiricalRisk, robustAccuracy: at.robustAccuracy, adversarialRisk: at.adversarialRisk };
}
