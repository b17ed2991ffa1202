import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { loadConfig } from '../../../src/config';
import type { ClassifierEngine, LossCoefficients } from '../../../src/model/engine';
import path from 'node:path';
import { compileKerasNetwork } from '../../../src/model/keras-network';
import { modelFolder, readManifest } from '../../../src/model/manifest';
import { createNormalizer } from '../../../src/model/normalize';
import { readLayersModel } from '../../../src/model/weights';
import { softmax } from '../../../src/model/predictions';
import { loadTfjsEngine } from '../../../src/model/tfjs-engine';
import { allowLayersGradientOnWasm, loadReferenceLayersModel } from '../../../src/model/reference-layers-model';
import { PIG, testDataPath } from '../../helpers/data';

const HOG = 341;
const AIRLINER = 404;
const { ADVPROBE_MODELS_DIR: modelsDir } = loadConfig();
const manifest = readManifest(modelsDir, 'resnet50');

async function pigPixels(): Promise<Float32Array> {
  const { data } = await sharp(testDataPath(...PIG)).resize(224, 224, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return Float32Array.from(data, (v) => v / 255);
}

/** L = log p(airliner) − log p(hog): the tutorial's targeted objective, a large gradient. */
function targetedLoss(): LossCoefficients {
  const a = new Float32Array(1000);
  a[AIRLINER] = 1;
  a[HOG] = -1;
  return { a, b: new Float32Array(1000) };
}

/** max |actual − expected| over max |expected| (reduce, not spread: 150 528 values). */
function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return actual.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i])), 0) / scale;
}

describe('ResNet50 engine on wasm', () => {
  let engine: ClassifierEngine;
  let pig: Float32Array;

  beforeAll(async () => {
    engine = await loadTfjsEngine({ modelsDir, manifest, backend: 'wasm' });
    pig = await pigPixels();
  });
  afterAll(() => engine.dispose());

  it('calls the tutorial pig a hog', async () => {
    const p = softmax(await engine.logits({ data: pig, count: 1 }));
    expect(p.indexOf(Math.max(...p))).toBe(HOG);
    expect(p[HOG]).toBeGreaterThan(0.9);
  });

  it('agrees with the plain TensorFlow.js layers model (normalisation applied by hand)', async () => {
    const reference = await loadReferenceLayersModel(modelsDir, manifest);
    const expected = tf.tidy(() => reference.probabilities(tf.tensor4d(pig, [1, 224, 224, 3])).dataSync() as Float32Array);
    reference.dispose();
    const ours = softmax(await engine.logits({ data: pig, count: 1 }));
    const maxDiff = Math.max(...ours.map((v, i) => Math.abs(v - expected[i])));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('computes the input gradient tf.grad computes through the same graph, within 1e-4', async () => {
    // The reference: the same lowered graph differentiated by TensorFlow.js itself. Under its
    // tape, tf.fused.conv2d splits a convolution with a ReLU into two ops (other rounding), so
    // the backward pass is checked on a forward pass with that same arithmetic.
    allowLayersGradientOnWasm();
    const files = readLayersModel(path.join(modelFolder(modelsDir, manifest), manifest.modelFile));
    const plain = compileKerasNetwork(files, manifest.logitsLayer, { gradients: 'autodiff' });
    const ours = compileKerasNetwork(files, manifest.logitsLayer, { tapeArithmetic: true });
    const normalizer = createNormalizer(manifest.preprocessing);
    const a = tf.tensor2d(targetedLoss().a, [1, 1000]);
    const x = tf.tensor4d(pig, [1, 224, 224, 3]);
    const expected = tf.tidy(() => {
      const objective = (input: tf.Tensor) => tf.sum(tf.mul(a, tf.logSoftmax(plain.apply(normalizer.apply(input as tf.Tensor4D)))));
      return tf.grad(objective)(x).dataSync() as Float32Array;
    });
    const before = tf.memory().numTensors;
    const actual = tf.tidy(() => {
      const { logits, backward } = ours.trace(normalizer.apply(x));
      // d/dz Σ a·log softmax(z) = a − softmax(z)·Σa
      return normalizer.backward(backward(tf.sub(a, tf.mul(tf.softmax(logits), tf.sum(a, 1, true))) as tf.Tensor2D)).dataSync() as Float32Array;
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, x]);
    [plain, ours, normalizer].forEach((n) => n.dispose());
    expect(maxRelativeError(actual, expected)).toBeLessThan(1e-4);
  });

  it('agrees with tf.grad through the plain layers model up to ReLU and max-pool near-ties', async () => {
    // The service's forward pass fuses each convolution with its bias and ReLU, and folds
    // batch-norm into it; the layers model under tf.grad does neither. The rounding differs,
    // which flips a few activations that sit at a ReLU or max-pool tie (flat image regions):
    // element-wise differences stay local, the direction agrees.
    allowLayersGradientOnWasm();
    const reference = await loadReferenceLayersModel(modelsDir, manifest);
    const expected = tf.tidy(() => reference.inputGradient(tf.tensor4d(pig, [1, 224, 224, 3]), tf.tensor2d(targetedLoss().a, [1, 1000])).dataSync() as Float32Array);
    reference.dispose();
    const { gradient } = await engine.lossGradient({ data: pig, count: 1 }, targetedLoss());
    let [dot, gg, ee] = [0, 0, 0];
    gradient.forEach((g, i) => {
      dot += g * expected[i];
      gg += g * g;
      ee += expected[i] * expected[i];
    });
    expect(dot / Math.sqrt(gg * ee)).toBeGreaterThan(0.9999);
  });

  it('computes the input gradient that finite differences measure', async () => {
    const loss = targetedLoss();
    const { gradient, loss: value } = await engine.lossGradient({ data: pig, count: 1 }, loss);
    const lossAt = async (x: Float32Array): Promise<number> => {
      const z = await engine.logits({ data: x, count: 1 });
      const p = softmax(z);
      return Math.log(p[AIRLINER]) - Math.log(p[HOG]);
    };
    expect(value[0]).toBeCloseTo(await lossAt(pig), 3);

    // Along the gradient direction: (L(x + h·u) − L(x − h·u)) / 2h = ‖g‖.
    const norm = Math.sqrt(gradient.reduce((sum, g) => sum + g * g, 0));
    const h = 1e-2;
    const step = (sign: number) => Float32Array.from(pig, (v, i) => v + (sign * h * gradient[i]) / norm);
    const directional = ((await lossAt(step(1))) - (await lossAt(step(-1)))) / (2 * h);
    expect(Math.abs(directional - norm) / norm).toBeLessThan(0.02);

    // On the five pixels with the largest gradient, one at a time.
    const pixels = Array.from(gradient.keys()).sort((i, j) => Math.abs(gradient[j]) - Math.abs(gradient[i])).slice(0, 5);
    for (const i of pixels) {
      const e = 2e-3;
      const plus = pig.slice();
      const minus = pig.slice();
      plus[i] += e;
      minus[i] -= e;
      const fd = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * e);
      expect(Math.abs(fd - gradient[i])).toBeLessThan(0.1 * Math.abs(gradient[i]));
    }
  });

  it('holds no more tensors after a batch of work than before', async () => {
    const before = engine.tensorCount();
    const batch = { data: new Float32Array(2 * 224 * 224 * 3).fill(0.3), count: 2 };
    await engine.logits(batch);
    const coefficients = { a: new Float32Array(2000).fill(-0.001), b: new Float32Array(2000) };
    await engine.lossGradient(batch, coefficients);
    await expect(engine.logits({ data: new Float32Array(5), count: 1 })).rejects.toThrow(/expected/);
    expect(engine.tensorCount()).toBe(before);
  });
});
