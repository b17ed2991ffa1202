/**
 * One advprobe engine in its own thread for `npm run bench` (TensorFlow.js backends are
 * process-global, so each engine gets a thread of its own). Loads the engine named in
 * workerData, then answers {what, batch} with the milliseconds one call took.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BackendName } from '../src/model/engine';
import { EngineLoadError, loadEngine } from '../src/model/load-engine';
import { readManifest } from '../src/model/manifest';

export interface BenchRequest {
  what: 'forward' | 'step';
  batch: number;
}
export type BenchReply = { ready: true; loadMs: number } | { failed: string } | { ms: number };

const { modelsDir, backend } = workerData as { modelsDir: string; backend: BackendName };
const port = parentPort!;

async function main(): Promise<void> {
  const started = performance.now();
  const manifest = readManifest(modelsDir, 'resnet50');
  const { engine } = await loadEngine({ modelsDir, manifest, backend });
  const { inputHeight: h, inputWidth: w, numClasses: k } = engine.info;
  port.postMessage({ ready: true, loadMs: performance.now() - started } satisfies BenchReply);
  port.on('message', async ({ what, batch }: BenchRequest) => {
    const data = Float32Array.from({ length: batch * h * w * 3 }, () => Math.random());
    const a = new Float32Array(batch * k);
    for (let i = 0; i < batch; i++) a[i * k] = -1; // cross-entropy of class 0, as the PyTorch side
    const started = performance.now();
    if (what === 'forward') await engine.logits({ data, count: batch });
    else await engine.lossGradient({ data, count: batch }, { a, b: new Float32Array(batch * k) });
    port.postMessage({ ms: performance.now() - started } satisfies BenchReply);
  });
}

main().catch((err: unknown) => {
  const failed = err instanceof EngineLoadError ? err.skipped.map((s) => s.reason).join('; ') : String(err);
  port.postMessage({ failed } satisfies BenchReply);
});
