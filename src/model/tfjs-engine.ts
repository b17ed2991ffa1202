import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's CommonJS build registers no gradients; the union package's build does.
import '@tensorflow/tfjs';
import { activateTfjsBackend, type TfjsBackendName } from './backend';
import { warmUp, type ClassifierEngine, type ImageBatch, type LossCoefficients, type LossGradient } from './engine';
import { compileKerasNetwork } from './keras-network';
import { modelFolder, type ModelManifest } from './manifest';
import { createNormalizer } from './normalize';
import { readLayersModel } from './weights';

export interface TfjsEngineOptions {
  modelsDir: string;
  manifest: ModelManifest;
  backend: TfjsBackendName;
}

/** Loads the model on a TensorFlow.js backend (throws if it cannot load here) and warms it up. */
export async function loadTfjsEngine(options: TfjsEngineOptions): Promise<ClassifierEngine> {
  const { manifest } = options;
  await activateTfjsBackend(options.backend);
  const files = readLayersModel(path.join(modelFolder(options.modelsDir, manifest), manifest.modelFile));
  const network = compileKerasNetwork(files, manifest.logitsLayer);
  const normalizer = createNormalizer(manifest.preprocessing);
  const { height, width } = manifest.input;
  const numClasses = manifest.numClasses;

  const toInput = (batch: ImageBatch): tf.Tensor4D => {
    const expected = batch.count * height * width * 3;
    if (batch.data.length !== expected) throw new Error(`batch holds ${batch.data.length} values, expected ${expected}`);
    return tf.tensor4d(batch.data, [batch.count, height, width, 3]);
  };
  const forwardOnly = (x: tf.Tensor4D): tf.Tensor2D => network.forward(normalizer.apply(x));
  /** Per-sample L = Σ a·log softmax(z) + Σ b·z. */
  const lossOf = (logits: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D =>
    tf.add(tf.sum(tf.mul(a, tf.logSoftmax(logits)), 1), tf.sum(tf.mul(b, logits), 1));
  /** dL/dz = a − softmax(z)·Σa + b, per sample (samples are independent). */
  const lossGradientOf = (logits: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D =>
    tf.add(tf.sub(a, tf.mul(tf.softmax(logits), tf.sum(a, 1, true))), b);

  const engine: ClassifierEngine = {
    info: { model: manifest.name, backend: options.backend, inputHeight: height, inputWidth: width, numClasses },

    async logits(batch) {
      const logits = tf.tidy(() => forwardOnly(toInput(batch)));
      try {
        return (await logits.data()) as Float32Array;
      } finally {
        logits.dispose();
      }
    },

    async lossGradient(batch, coefficients: LossCoefficients): Promise<LossGradient> {
      const shape: [number, number] = [batch.count, numClasses];
      const [logits, loss, gradient] = tf.tidy(() => {
        const x = toInput(batch);
        const a = tf.tensor2d(coefficients.a, shape);
        const b = tf.tensor2d(coefficients.b, shape);
        // The network's own backward pass (keras-network.ts), not TensorFlow.js's tape.
        const traced = network.trace(normalizer.apply(x));
        const gradient = normalizer.backward(traced.backward(lossGradientOf(traced.logits, a, b)));
        return [traced.logits, lossOf(traced.logits, a, b), gradient];
      });
      try {
        const [l, s, g] = await Promise.all([logits.data(), loss.data(), gradient.data()]);
        return { logits: l as Float32Array, loss: s as Float32Array, gradient: g as Float32Array };
      } finally {
        tf.dispose([logits, loss, gradient]);
      }
    },

    tensorCount: () => tf.memory().numTensors,

    dispose() {
      network.dispose();
      normalizer.dispose();
    },
  };
  await warmUp(engine);
  return engine;
}
