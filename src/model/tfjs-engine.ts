import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's CommonJS build registers no gradients; the union package's build does.
import '@tensorflow/tfjs';
import { activateTfjsBackend, type TfjsBackendName } from './backend';
import { warmUp, type ClassifierEngine, type EngineInfo, type ImageBatch, type LossCoefficients, type LossGradient } from './engine';
import { compileKerasNetwork, compileTfjsNetwork, type Network } from './keras-network';
import type { LayerGraph } from './layer-graph';
import { modelFolder, type ModelManifest } from './manifest';
import { createNormalizer } from './normalize';
import { parametersOf, trainableOps, type TrainableEngine, type TrainableSelection, type WeightGradient } from './trainable';
import { readLayersModel } from './weights';

export interface TfjsEngineOptions {
  modelsDir: string;
  manifest: ModelManifest;
  backend: TfjsBackendName;
}

export type TfjsEngineInfo = Omit<EngineInfo, 'backend'> & { backend: TfjsBackendName };

/** Loads the model on a TensorFlow.js backend (throws if it cannot load here) and warms it up. */
export async function loadTfjsEngine(options: TfjsEngineOptions): Promise<ClassifierEngine> {
  const { manifest } = options;
  await activateTfjsBackend(options.backend);
  const files = readLayersModel(path.join(modelFolder(options.modelsDir, manifest), manifest.modelFile));
  const network = compileKerasNetwork(files, manifest.logitsLayer);
  const info = { model: manifest.name, backend: options.backend, inputHeight: manifest.input.height, inputWidth: manifest.input.width, numClasses: manifest.numClasses };
  const engine = networkEngine(network, manifest.preprocessing, info).engine;
  await warmUp(engine);
  return engine;
}

/**
 * An engine whose `parameters` (the weights of the layers `selection` trains) the network
 * reads at the start of every call, so an optimiser updating them in place changes the model for
 * the inner attack (logits, lossGradient) and the weight gradient alike.
 */
export async function createTfjsTrainableEngine(
  graph: LayerGraph,
  preprocessing: ModelManifest['preprocessing'],
  info: TfjsEngineInfo,
  selection: TrainableSelection,
): Promise<TrainableEngine> {
  await activateTfjsBackend(info.backend);
  const parameters = parametersOf(trainableOps(graph, selection));
  const network = compileTfjsNetwork(graph, { parameters });
  const { engine, batchTensors } = networkEngine(network, preprocessing, info);
  return {
    ...engine,
    parameters,
    async weightGradient(batch, coefficients): Promise<WeightGradient> {
      network.readParameters();
      const tensors = tf.tidy(() => {
        const { x, a, b } = batchTensors(batch, coefficients);
        const traced = network.traceWeights(x);
        const gradients = traced.backward(lossGradientOf(traced.logits, a, b));
        return [traced.logits, lossOf(traced.logits, a, b), ...gradients];
      });
      const [logits, loss, ...gradients] = await download(tensors);
      return { logits, loss, gradients };
    },
  };
}

/**
 * A ClassifierEngine over a compiled network and the model's preprocessing, and the step
 * that turns a batch and its loss into tensors (normalised input, coefficients).
 */
function networkEngine(
  network: Network,
  preprocessing: ModelManifest['preprocessing'],
  info: EngineInfo,
): { engine: ClassifierEngine; batchTensors(batch: ImageBatch, loss: LossCoefficients): { x: tf.Tensor4D; a: tf.Tensor2D; b: tf.Tensor2D } } {
  const normalizer = createNormalizer(preprocessing);
  const { inputHeight: height, inputWidth: width, numClasses } = info;
  const toInput = (batch: ImageBatch): tf.Tensor4D => {
    const expected = batch.count * height * width * 3;
    if (batch.data.length !== expected) throw new Error(`batch holds ${batch.data.length} values, expected ${expected}`);
    return normalizer.apply(tf.tensor4d(batch.data, [batch.count, height, width, 3]));
  };
  const batchTensors = (batch: ImageBatch, loss: LossCoefficients) => {
    const shape: [number, number] = [batch.count, numClasses];
    return { x: toInput(batch), a: tf.tensor2d(loss.a, shape), b: tf.tensor2d(loss.b, shape) };
  };

  const engine: ClassifierEngine = {
    info,

    async logits(batch) {
      network.readParameters();
      const [logits] = await download([tf.tidy(() => network.forward(toInput(batch)))]);
      return logits;
    },

    async lossGradient(batch, coefficients: LossCoefficients): Promise<LossGradient> {
      network.readParameters();
      const tensors = tf.tidy(() => {
        const { x, a, b } = batchTensors(batch, coefficients);
        // The network's own backward pass (keras-network.ts), not TensorFlow.js's tape.
        const traced = network.trace(x);
        const gradient = normalizer.backward(traced.backward(lossGradientOf(traced.logits, a, b)));
        return [traced.logits, lossOf(traced.logits, a, b), gradient];
      });
      const [logits, loss, gradient] = await download(tensors);
      return { logits, loss, gradient };
    },

    tensorCount: () => tf.memory().numTensors,

    dispose() {
      network.dispose();
      normalizer.dispose();
    },
  };
  return { engine, batchTensors };
}

/** Per-sample L = Σ a·log softmax(z) + Σ b·z. */
const lossOf = (logits: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D => tf.add(tf.sum(tf.mul(a, tf.logSoftmax(logits)), 1), tf.sum(tf.mul(b, logits), 1));

/** dL/dz = a − softmax(z)·Σa + b, per sample (samples are independent). */
const lossGradientOf = (logits: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D => tf.add(tf.sub(a, tf.mul(tf.softmax(logits), tf.sum(a, 1, true))), b);

/** The tensors' values, and the tensors freed. */
async function download(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  try {
    return (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
  } finally {
    tf.dispose(tensors);
  }
}
