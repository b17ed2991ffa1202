import { toUnit } from '../../images/unit-pixels';
import type { ModelManifest } from '../../model/manifest';
import { ModelStore } from '../../model/model-store';
import type { TrainingSettings } from '../../contract/training-params';
import type { WorkerTask } from '../../runtime/worker-task';
import { provenance } from '../../training/provenance';
import { runTraining, type TrainingProgress, type TrainingReport } from '../../training/run-training';
import type { TrainingSpec } from '../../contract/job-specs';
import type { TrainingResult } from '../../contract/training-schemas';
import { BASE_MODEL } from '../../model/catalog';
import { modelRefOf, pixelsOf, round, type JobKindRunner } from './job-kind';

/** Adversarial training of the request's model on the images; saves the result as `settings.name`. */
export interface TrainingTaskInput {
  /** 8-bit RGB HWC images one after another, at the model's input size. */
  pixels: Uint8Array;
  images: { name: string; label: number }[];
  settings: TrainingSettings;
  save: { owner: string | null; job: string };
}

/**
 * A training job on the model worker: a trainable copy of the model, the training with its
 * report (training/run-training.ts), and the result saved as a new model in the store. The
 * copy is disposed whatever happens; the source model is never touched.
 */
export const trainingTask: WorkerTask<TrainingTaskInput, { report: TrainingReport; model: ModelManifest }, TrainingProgress> = {
  name: 'train',
  async run(input, context) {
    const { settings } = input;
    const loader = context.loader;
    if (!loader) throw new Error('this worker runs an injected engine and cannot train');
    const store = new ModelStore(loader.modelsDir);
    const { engine, graph } = await loader.trainable(context.model, settings.trainable);
    try {
      const { inputHeight: h, inputWidth: w } = engine.info;
      const size = h * w * 3;
      if (input.pixels.length !== size * input.images.length) throw new Error(`expected ${input.images.length} images of ${h}×${w}×3 pixels`);
      const images = input.images.map(({ name, label }, i) => ({ name, label, x: toUnit(input.pixels.subarray(i * size, (i + 1) * size)) }));
      const hooks = { beforeStep: context.checkpoint, onProgress: context.progress };
      const report = await runTraining(engine, images, settings, hooks);
      await context.checkpoint(); // a cancel during the last scoring still wins: nothing is saved
      const source = store.find(context.model?.name ?? engine.info.model, input.save.owner);
      const { training, description } = provenance(settings, source.manifest.name, input.save.job, report);
      const saved = store.save(source, graph, engine.parameters, { name: settings.name, owner: input.save.owner, description, training });
      return { output: { report, model: saved.manifest } };
    } finally {
      engine.dispose();
    }
  },
};

/**
 * Adversarial training, run whole on one model worker thread (like an attack): a trainable
 * copy of the model, the report, and the new model saved in the store under the job's
 * owner. Progress: scoring, each batch's loss, each epoch's figures.
 */
export const trainingKind: JobKindRunner = {
  kind: 'training',
  lane: 'batch',
  timeLimit: 'ADVPROBE_TRAINING_TIMEOUT_MS',
  tasks: [trainingTask],
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
