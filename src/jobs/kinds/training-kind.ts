import type { TrainingSpec } from '../../contract/job-specs';
import type { TrainingResult } from '../../contract/training-schemas';
import { BASE_MODEL } from '../../model/catalog';
import { modelRefOf, pixelsOf, round, type JobKindRunner } from './job-kind';
import { trainingTask } from './training-task';

/**
 * Adversarial training, run whole on one model worker thread (like an attack): a trainable
 * copy of the model, the report, and the new model saved in the store under the job's
 * owner. Progress: scoring, each batch's loss, each epoch's figures.
 */
export const trainingKind: JobKindRunner = {
  kind: 'training',
  lane: 'batch',
  timeLimit: 'ADVPROBE_TRAINING_TIMEOUT_MS',
  async run(input, context, { model, models }) {
    const { settings, images } = input.spec as TrainingSpec;
    const ref = modelRefOf(models, settings.model, context.owner);
    const started = performance.now();
    const pixels = pixelsOf(input).slice(); // a copy the thread owns
    const { value } = await model.run(trainingTask, { pixels, images, settings, save: { owner: context.owner, job: context.id } }, {
      model: ref,
      signal: context.signal,
      transfer: [pixels.buffer],
      onProgress: (progress) => context.report(progress),
    });
    const { report, model: trained } = value;
    if (trained.source.type !== 'training') throw new Error('internal: the trained model has no training source');
    const { name, model: from, ...rest } = settings;
    const result: TrainingResult = {
      id: context.id,
      status: 'succeeded',
      settings: { name, model: from ?? BASE_MODEL, ...rest, epsilon255: settings.epsilon * 255 },
      model: { name: trained.name, description: trained.description, source: trained.source },
      split: report.split,
      before: report.before,
      after: report.after,
      epochs: report.epochs,
      timingMs: {
        total: round(performance.now() - started + context.queuedMs),
        before: round(report.seconds.before * 1000),
        training: round(report.seconds.training * 1000),
        after: round(report.seconds.after * 1000),
      },
    };
    return { result };
  },
};
