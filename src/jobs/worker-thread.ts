/**
 * Entry of the model worker thread: loads the engine, then answers WorkerRequests with the
 * handler. All tensor math happens here, never on the HTTP event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readManifest } from '../model/manifest';
import { loadTfjsEngine } from '../model/tfjs-engine';
import { createWorkerHandler } from './model-worker';
import type { WorkerOptions, WorkerRequest, WorkerResponse } from './protocol';

const port = parentPort;
if (!port) throw new Error('worker-thread.ts must run as a worker thread');
const send = (message: WorkerResponse): void => {
  const transfer = message.type === 'classified' ? [message.probabilities.buffer as ArrayBuffer] : [];
  port.postMessage(message, transfer);
};

async function main(options: WorkerOptions): Promise<void> {
  const started = performance.now();
  const manifest = readManifest(options.modelsDir, options.modelName);
  const { engine, selection } = await loadTfjsEngine({ modelsDir: options.modelsDir, manifest, backend: options.backend });
  const handle = createWorkerHandler(engine);
  // One request at a time, in arrival order: the queue in the main thread sends one job at
  // a time, and serialising here keeps that true whatever the sender does.
  let chain = Promise.resolve();
  port!.on('message', (request: WorkerRequest) => {
    chain = chain.then(async () => send(await handle(request)));
  });
  send({ type: 'ready', info: engine.info, skipped: selection.skipped, loadMs: performance.now() - started });
}

main(workerData as WorkerOptions).catch((err: unknown) => {
  send({ type: 'load-failed', message: err instanceof Error ? err.message : String(err) });
});
