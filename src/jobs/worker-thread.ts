/**
 * Entry of the model worker thread: loads the engine, then answers WorkerRequests with the
 * handler. All tensor math happens here, never on the HTTP event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readManifest } from '../model/manifest';
import { loadEngine } from '../model/load-engine';
import { createWorkerHandler } from './model-worker';
import { transferables, type WorkerOptions, type WorkerRequest, type WorkerResponse } from './protocol';

const port = parentPort;
if (!port) throw new Error('worker-thread.ts must run as a worker thread');
const send = (message: WorkerResponse): void => port.postMessage(message, transferables(message));

async function main(options: WorkerOptions): Promise<void> {
  const started = performance.now();
  const manifest = readManifest(options.modelsDir, options.modelName);
  const { engine, skipped } = await loadEngine({ modelsDir: options.modelsDir, manifest, backend: options.backend });
  const handler = createWorkerHandler(engine);
  // One request at a time, in arrival order (the queue in the main thread sends one job at
  // a time; serialising here keeps that true whatever the sender does). Cancels, crashes and
  // tensor counts jump the line.
  let chain = Promise.resolve();
  port!.on('message', (request: WorkerRequest) => {
    if (request.type === 'cancel') return handler.cancel(request.id);
    if (request.type === 'crash') return options.testHooks && process.exit(70); // ends this thread only
    // A cheap read that must not wait behind a long attack (metrics scrapes ask for it).
    if (request.type === 'tensor-count') return void handler.handle(request, send).then(send);
    chain = chain.then(async () => send(await handler.handle(request, send)));
  });
  send({ type: 'ready', info: engine.info, skipped, loadMs: performance.now() - started });
}

main(workerData as WorkerOptions).catch((err: unknown) => {
  send({ type: 'load-failed', message: err instanceof Error ? err.message : String(err) });
});
