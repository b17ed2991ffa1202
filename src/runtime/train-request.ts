import type { ModelManifest } from '../model/manifest';
import { provenance } from '../training/provenance';
import { ModelStore } from '../model/model-store';
import { toUnit } from '../images/unit-pixels';
import { runTraining, type RunHooks, type TrainingReport } from '../training/run-training';
import type { ModelLoader } from './model-cache';
import type { TrainRequest } from './protocol';

/**
 * A training job on the model worker: a trainable copy of the model, the training with its
 * report (training/run-training.ts), and the result saved as a new model in the store. The
 * copy is disposed whatever happens; the source model is never touched.
 */
export async function runTrainRequest(request: TrainRequest, loader: ModelLoader, hooks: RunHooks): Promise<{ report: TrainingReport; model: ModelManifest }> {
  const { settings } = request;
  const store = new ModelStore(loader.modelsDir);
  const { engine, graph } = await loader.trainable(request.model, settings.trainable);
  try {
    const { inputHeight: h, inputWidth: w } = engine.info;
    const size = h * w * 3;
    if (request.pixels.length !== size * request.images.length) throw new Error(`expected ${request.images.length} images of ${h}×${w}×3 pixels`);
    const images = request.images.map(({ name, label }, i) => ({ name, label, x: toUnit(request.pixels.subarray(i * size, (i + 1) * size)) }));
    const report = await runTraining(engine, images, settings, hooks);
    await hooks.beforeStep?.(); // a cancel during the last scoring still wins: nothing is saved
    const source = store.find(request.model?.name ?? engine.info.model, request.save.owner);
    const { training, description } = provenance(settings, source.manifest.name, request.save.job, report);
    const saved = store.save(source, graph, engine.parameters, { name: settings.name, owner: request.save.owner, description, training });
    return { report, model: saved.manifest };
  } finally {
    engine.dispose();
  }
}
