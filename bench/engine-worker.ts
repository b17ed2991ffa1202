/**
 * One advprobe engine in its own thread for `npm run bench` (TensorFlow.js backends are
 * process-global, so each engine gets a thread of its own). Loads the engine named in
 * workerData — or, for `wasm-layers`, TensorFlow.js's own layers model with plain autodiff,
 * the reference the compiled network must not be slower than — then answers {what, batch}
 * with the milliseconds one call took (NaN: not measured).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { activateTfjsBackend } from '../src/model/backend';
import type { ClassifierEngine } from '../src/model/engine';
import { EngineLoadError, loadEngine } from '../src/model/load-engine';
import { readManifest } from '../src/model/manifest';
import { allowLayersGradientOnWasm, loadReferenceLayersModel } from '../src/model/reference-layers-model';
import { LAYERS_REFERENCE, type BenchContender, type BenchReply, type BenchRequest } from './engine-protocol';


const { modelsDir, backend } = workerData as { modelsDir: string; backend: BenchContender };
const port = parentPort!;
const manifest = readManifest(modelsDir, 'resnet50');

/** The layers model as an engine: forward and a naive step (at batch 1 only: seconds per image). */
async function layersReference(): Promise<ClassifierEngine> {
  await activateTfjsBackend('wasm');
  allowLayersGradientOnWasm();
  const model = await loadReferenceLayersModel(modelsDir, manifest);
  const input = (data: Float32Array, count: number) => tf.tensor4d(data, [count, 224, 224, 3]);
  const info = { model: 'resnet50', backend: 'wasm' as const, inputHeight: 224, inputWidth: 224, numClasses: 1000 };
  return {
    info,
    logits: async ({ data, count }) => tf.tidy(() => model.probabilities(input(data, count)).dataSync() as Float32Array),
    lossGradient: async ({ data, count }, { a }) => {
      const gradient = tf.tidy(() => model.inputGradient(input(data, count), tf.tensor2d(a, [count, 1000])).dataSync() as Float32Array);
      return { logits: new Float32Array(), loss: new Float32Array(), gradient };
    },
    tensorCount: () => tf.memory().numTensors,
    dispose: () => model.dispose(),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const engine = backend === LAYERS_REFERENCE ? await layersReference() : (await loadEngine({ modelsDir, manifest, backend })).engine;
  const { inputHeight: h, inputWidth: w, numClasses: k } = engine.info;
  port.postMessage({ ready: true, loadMs: performance.now() - started } satisfies BenchReply);
  port.on('message', async ({ what, batch, calls, warmup }: BenchRequest) => {
    const data = Float32Array.from({ length: batch * h * w * 3 }, () => Math.random());
    const a = new Float32Array(batch * k);
    for (let i = 0; i < batch; i++) a[i * k] = -1; // cross-entropy of class 0, as the PyTorch side
    // The layers model's naive step takes seconds per image: measured at batch 1 only.
    if (what === 'step' && batch > 1 && backend === LAYERS_REFERENCE) return port.postMessage({ ms: NaN } satisfies BenchReply);
    const call = () => (what === 'forward' ? engine.logits({ data, count: batch }) : engine.lossGradient({ data, count: batch }, { a, b: new Float32Array(batch * k) }));
    // The layers reference is seconds per call: a shorter block keeps the run in minutes.
    const [n, warm] = backend === LAYERS_REFERENCE ? [Math.min(calls, 3), Math.min(warmup, 1)] : [calls, warmup];
    for (let i = 0; i < warm; i++) await call();
    const started = performance.now();
    for (let i = 0; i < n; i++) await call();
    port.postMessage({ ms: (performance.now() - started) / n } satisfies BenchReply);
  });
}

main().catch((err: unknown) => {
  const failed = err instanceof EngineLoadError ? err.skipped.map((s) => s.reason).join('; ') : String(err);
  port.postMessage({ failed } satisfies BenchReply);
});
