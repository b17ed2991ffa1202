import { parentPort, workerData } from 'node:worker_threads';
import { readManifest } from '../model/manifest';
import { readTrainedManifest } from '../model/model-store';
import { loadEngine, loadTrainableEngine } from '../model/load-engine';
import type { ModelLoader } from './model-cache';
import { createWorkerHandler } from './model-worker';
import type { WorkerOptions, WorkerRequest, WorkerResponse } from './protocol';
import type { SomeWorkerTask } from './worker-task';

/**
 * The model worker thread: loads the engine, then answers WorkerRequests with the handler
 * and `tasks`. All tensor math happens here, never on the HTTP event loop. Called by a
 * thread entry that names the tasks (WorkerProgram.entry).
 */
export function serveModelWorker(tasks: readonly SomeWorkerTask[]): void {
  const port = parentPort;
  if (!port) throw new Error('a model worker must run as a worker thread');
  const send = (message: WorkerResponse, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  main(workerData as WorkerOptions, tasks, send).catch((err: unknown) => {
    send({ type: 'load-failed', message: err instanceof Error ? err.message : String(err) });
  });
}

async function main(options: WorkerOptions, tasks: readonly SomeWorkerTask[], send: (message: WorkerResponse, transfer?: ArrayBuffer[]) => void): Promise<void> {
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
  const batching = { ...options.batching, onBatch: (kind: 'logits' | 'gradient', images: number) => send({ type: 'batch', kind, images }) };
  const handler = createWorkerHandler(engine, { tasks, batching, loader });
  // Requests run concurrently (the main thread's queue bounds how many); their engine calls
  // are merged into batches, one engine call at a time.
  parentPort!.on('message', (request: WorkerRequest) => {
    if (request.type === 'cancel') return handler.cancel(request.id);
    // Both end this thread only, and only between engine calls (see DynamicBatcher.pause).
    if (request.type === 'crash') return void (options.testHooks && handler.stop().then(() => process.exit(70)));
    if (request.type === 'close') return void handler.stop().then(() => process.exit(0));
    void handler.handle(request, (message) => send(message)).then(({ message, transfer }) => send(message, transfer));
  });
  send({ type: 'ready', info: engine.info, skipped, loadMs: performance.now() - started });
}
