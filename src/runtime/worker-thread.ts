/**
 * Entry of the model worker thread: loads the engine, then answers WorkerRequests with the
 * handler. All tensor math happens here, never on the HTTP event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readManifest } from '../model/manifest';
import { readTrainedManifest } from '../model/model-store';
import { loadEngine, loadTrainableEngine } from '../model/load-engine';
import type { ModelLoader } from './model-cache';
import { createWorkerHandler } from './model-worker';
import { transferables, type WorkerOptions, type WorkerRequest, type WorkerResponse } from './protocol';

const port = parentPort;
if (!port) throw new Error('worker-thread.ts must run as a worker thread');
const send = (message: WorkerResponse): void => port.postMessage(message, transferables(message));

async function main(options: WorkerOptions): Promise<void> {
  const started = performance.now();
  const manifest = readManifest(options.modelsDir, options.modelName);
  const { engine, skipped } = await loadEngine({ modelsDir: options.modelsDir, manifest, backend: options.backend, threads: options.threads });
  const backend = engine.info.backend;
  const threads = options.threads;
  const manifestOf = (ref: { name: string; modelsDir: string } | undefined) => (ref ? readTrainedManifest(ref.modelsDir, ref.name) : manifest);
  // Trained models load on the backend the worker's own model loaded on.
  const loader: ModelLoader = {
    modelsDir: options.modelsDir,
    maxLoaded: options.maxLoadedModels,
    engine: async (ref) => (await loadEngine({ modelsDir: ref.modelsDir, manifest: manifestOf(ref), backend, threads })).engine,
    trainable: (ref, selection) => loadTrainableEngine({ modelsDir: ref?.modelsDir ?? options.modelsDir, manifest: manifestOf(ref), backend, threads, selection }),
  };
  const handler = createWorkerHandler(
    engine,
    {
      ...options.batching,
      onBatch: (kind, images) => send({ type: 'batch', kind, images }),
    },
    loader,
  );
  // Requests run concurrently (the main thread's queue bounds how many); their engine calls
  // are merged into batches, one engine call at a time.
  port!.on('message', (request: WorkerRequest) => {
    if (request.type === 'cancel') return handler.cancel(request.id);
    // Both end this thread only, and only between engine calls (see DynamicBatcher.pause).
    if (request.type === 'crash') return void (options.testHooks && handler.stop().then(() => process.exit(70)));
    if (request.type === 'close') return void handler.stop().then(() => process.exit(0));
    void handler.handle(request, send).then(send);
  });
  send({ type: 'ready', info: engine.info, skipped, loadMs: performance.now() - started });
}

main(workerData as WorkerOptions).catch((err: unknown) => {
  send({ type: 'load-failed', message: err instanceof Error ? err.message : String(err) });
});
