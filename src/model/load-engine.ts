import { BACKENDS, type BackendChoice, type BackendName, type ClassifierEngine } from './engine';
import type { ModelManifest } from './manifest';
import { loadOnnxEngine } from './onnx/onnx-engine';
import { loadTfjsEngine } from './tfjs-engine';

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
