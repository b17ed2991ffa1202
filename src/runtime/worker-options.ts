import { availableParallelism } from 'node:os';
import type { Config } from '../config';
import { BASE_MODEL } from '../model/catalog';
import type { BackendName } from '../model/engine';
import type { WorkerOptions } from './protocol';

/**
 * How many model workers a backend gets: one per core for single-threaded engines (wasm,
 * cpu), one otherwise — a GPU is shared best by one batching worker, and ONNX Runtime and
 * tfjs-node already use every core. ADVPROBE_WORKERS overrides it, except on a GPU.
 */
export function workerCount(configured: number, backend: BackendName, cores = availableParallelism()): number {
  if (backend === 'tfjs-node-gpu') return 1;
  if (configured > 0) return configured;
  return backend === 'wasm' || backend === 'cpu' ? cores : 1;
}

/** What each model worker thread of the pool starts with. */
export function workerOptions(config: Config, backend: WorkerOptions['backend']): WorkerOptions {
  const configured = config.ADVPROBE_WORKERS;
  return {
    modelsDir: config.ADVPROBE_MODELS_DIR,
    modelName: BASE_MODEL,
    backend,
    // Workers share the cores: with N of them, a multi-threaded engine takes cores / N each.
    threads: config.ADVPROBE_ENGINE_THREADS || (configured > 0 ? Math.max(1, Math.floor(availableParallelism() / configured)) : undefined),
    batching: { maxBatch: config.ADVPROBE_MAX_BATCH, maxDelayMs: config.ADVPROBE_MAX_QUEUE_DELAY_MS },
    maxLoadedModels: config.ADVPROBE_MAX_LOADED_MODELS,
    testHooks: config.ADVPROBE_TEST_HOOKS,
  };
}
