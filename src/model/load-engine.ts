import { BACKENDS, type BackendChoice, type BackendName, type ClassifierEngine } from './engine';
import path from 'node:path';
import { lowerKerasModel, type LayerGraph } from './layer-graph';
import { modelFolder, type ModelManifest } from './manifest';
import { createOnnxTrainableEngine, loadOnnxEngine } from './onnx/onnx-engine';
import type { TrainableEngine, TrainableSelection } from './trainable';
import { readLayersModel } from './weights';
import { createTfjsTrainableEngine, loadTfjsEngine } from './tfjs-engine';

export interface EngineSelection {
  engine: ClassifierEngine;
  /** Why each better backend was passed over, for the logs and /readyz. */
  skipped: { backend: BackendName; reason: string }[];
}

export interface LoadEngineOptions {
  modelsDir: string;
  manifest: ModelManifest;
  backend: BackendChoice;
  /** Threads for CPU engines (ONNX Runtime); default: every core. */
  threads?: number;
}

/** `auto` tries these in order: the GPU, then the fastest CPU engine, then the fallbacks. */
const AUTO_ORDER: BackendName[] = BACKENDS.filter((b) => b !== 'cpu');

/** Loads the model on the chosen backend, or on the first of AUTO_ORDER that loads here. */
export async function loadEngine(options: LoadEngineOptions): Promise<EngineSelection> {
  const candidates = options.backend === 'auto' ? AUTO_ORDER : [options.backend];
  const skipped: EngineSelection['skipped'] = [];
  for (const backend of candidates) {
    try {
      const engine =
        backend === 'onnxruntime'
          ? await loadOnnxEngine({ modelsDir: options.modelsDir, manifest: options.manifest, threads: options.threads })
          : await loadTfjsEngine({ modelsDir: options.modelsDir, manifest: options.manifest, backend });
      return { engine, skipped };
    } catch (err) {
      skipped.push({ backend, reason: err instanceof Error ? err.message.split('\n')[0] : String(err) });
    }
  }
  throw new EngineLoadError(skipped);
}

export class EngineLoadError extends Error {
  constructor(readonly skipped: EngineSelection['skipped']) {
    const reasons = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
    super(`the model could not be loaded on any backend (${reasons}); choices are auto, ${BACKENDS.join(', ')}`);
  }
}

/**
 * A trainable copy of the model on `backend` (the one the worker already runs on), with
 * the lowered graph its parameters came from.
 */
export async function loadTrainableEngine(
  options: Omit<LoadEngineOptions, 'backend'> & { backend: BackendName; selection: TrainableSelection },
): Promise<{ engine: TrainableEngine; graph: LayerGraph }> {
  const { manifest } = options;
  const files = readLayersModel(path.join(modelFolder(options.modelsDir, manifest), manifest.modelFile));
  const graph = lowerKerasModel(files, manifest.logitsLayer);
  const info = { model: manifest.name, inputHeight: manifest.input.height, inputWidth: manifest.input.width, numClasses: manifest.numClasses };
  const engine =
    options.backend === 'onnxruntime'
      ? await createOnnxTrainableEngine(graph, manifest.preprocessing, info, options.selection, options.threads)
      : await createTfjsTrainableEngine(graph, manifest.preprocessing, { ...info, backend: options.backend }, options.selection);
  return { engine, graph };
}
