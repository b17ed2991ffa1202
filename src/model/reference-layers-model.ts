import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { modelFolder, type ModelManifest } from './manifest';
import { readLayersModel } from './weights';

/**
 * The Keras model as TensorFlow.js's own layers run it, with plain autodiff: the reference
 * the engines are checked against (tests) and timed against (`npm run bench`). The service
 * never uses it.
 */
export interface ReferenceLayersModel {
  /** Softmax probabilities of RGB images in [0, 1], NHWC. */
  probabilities(x: tf.Tensor4D): tf.Tensor2D;
  /** d/dx Σ a·log p(x) through tf.grad (on wasm, after allowLayersGradientOnWasm). */
  inputGradient(x: tf.Tensor4D, a: tf.Tensor2D): tf.Tensor4D;
  dispose(): void;
}

export async function loadReferenceLayersModel(modelsDir: string, manifest: ModelManifest): Promise<ReferenceLayersModel> {
  const file = path.join(modelFolder(modelsDir, manifest), manifest.modelFile);
  const files = readLayersModel(file);
  const json = JSON.parse(readFileSync(file, 'utf8')) as { modelTopology: object };
  const tensors = Object.fromEntries(Object.entries(files.weights).map(([name, w]) => [name, tf.tensor(w.data, w.shape)]));
  const encoded = await tf.io.encodeWeights(tensors);
  tf.dispose(Object.values(tensors));
  const layers = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: encoded.specs, weightData: encoded.data }));
  const mean = tf.tensor1d(manifest.preprocessing.mean);
  // The Keras preprocessing by hand: ×255, RGB → BGR, minus the BGR mean.
  const probabilities = (x: tf.Tensor4D): tf.Tensor2D => tf.tidy(() => layers.predict(tf.sub(tf.mul(tf.reverse(x, 3), 255), mean)) as tf.Tensor2D);
  return {
    probabilities,
    inputGradient: (x, a) => tf.tidy(() => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(a, tf.log(probabilities(input as tf.Tensor4D)))))(x) as tf.Tensor4D),
    dispose: () => {
      layers.dispose();
      mean.dispose();
    },
  };
}

/**
 * tf.grad through fused conv2d computes filter gradients too, and wasm has no
 * Conv2DBackpropFilter kernel: this registers one that returns zeros (the reference's filter
 * gradients are thrown away), so the plain layers model can differentiate on wasm.
 */
export function allowLayersGradientOnWasm(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ attrs, backend }) => {
      const wasm = backend as unknown as { makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo; typedArrayFromHeap(t: tf.TensorInfo): Float32Array };
      const out = wasm.makeOutput(attrs?.filterShape as number[], 'float32');
      wasm.typedArrayFromHeap(out).fill(0);
      return out;
    },
  });
}
