import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { compileKerasNetwork } from '../../../src/model/keras-network';
import { tinyNetwork } from '../../helpers/tiny-network';

/** Σ a·log(p) through TensorFlow.js's own layers and autodiff: the reference. */
function referenceLossGradient(model: tf.LayersModel, x: tf.Tensor4D, a: tf.Tensor2D) {
  const f = (input: tf.Tensor) => tf.sum(tf.mul(a, tf.log(model.apply(input) as tf.Tensor)));
  return tf.tidy(() => ({ probabilities: (model.predict(x) as tf.Tensor).arraySync() as number[][], grad: tf.grad(f)(x).arraySync() as number[][][][] }));
}

function oursLossGradient(network: ReturnType<typeof compileKerasNetwork>, xData: Float32Array, aData: Float32Array, batch: number) {
  return tf.tidy(() => {
    const x = tf.tensor4d(xData, [batch, 17, 19, 3]);
    const a = tf.tensor2d(aData, [batch, 10]);
    const f = (input: tf.Tensor) => tf.sum(tf.mul(a, tf.logSoftmax(network.apply(input as tf.Tensor4D))));
    return { probabilities: tf.softmax(network.apply(x)).arraySync() as number[][], grad: tf.grad(f)(x).arraySync() as number[][][][] };
  });
}

function maxRelativeError(actual: number[], expected: number[]): number {
  const scale = Math.max(...expected.map(Math.abs));
  return Math.max(...actual.map((v, i) => Math.abs(v - expected[i]))) / scale;
}

describe('compileKerasNetwork on a small random network', () => {
  const batch = 3;
  let reference: { probabilities: number[][]; grad: number[][][][] };
  let xData: Float32Array;
  let aData: Float32Array;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    xData = Float32Array.from({ length: batch * 17 * 19 * 3 }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
    aData = Float32Array.from({ length: batch * 10 }, (_, i) => ((i * 7) % 10) / 10 - 0.45);
    const { model } = await tinyNetwork();
    reference = tf.tidy(() => referenceLossGradient(model, tf.tensor4d(xData, [batch, 17, 19, 3]), tf.tensor2d(aData, [batch, 10])));
  });

  it.each(['cpu', 'wasm'])('matches the layers model and its autodiff gradient on %s', async (backend) => {
    await tf.setBackend(backend);
    const { files } = await tinyNetwork(); // same seed: the same weights, decoded on this backend
    const network = compileKerasNetwork(files, 'logits');
    const before = tf.memory().numTensors;
    const ours = oursLossGradient(network, xData, aData, batch);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxRelativeError(ours.probabilities.flat(), reference.probabilities.flat())).toBeLessThan(1e-4);
    expect(maxRelativeError(ours.grad.flat(3), reference.grad.flat(3))).toBeLessThan(1e-4);
    // The forward-only path (nothing kept for a backward pass) gives the very same logits.
    const forwardOnly = tf.tidy(() => tf.softmax(network.forward(tf.tensor4d(xData, [batch, 17, 19, 3]))).arraySync());
    expect(forwardOnly).toEqual(ours.probabilities);
    // The engine's path: trace() and its backward pass without the tape, from dL/dlogits = a − p·Σa.
    const traced = tf.tidy(() => {
      const { logits, backward } = network.trace(tf.tensor4d(xData, [batch, 17, 19, 3]));
      const a = tf.tensor2d(aData, [batch, 10]);
      return backward(tf.sub(a, tf.mul(tf.softmax(logits), tf.sum(a, 1, true))) as tf.Tensor2D).arraySync();
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(maxRelativeError(traced.flat(3), reference.grad.flat(3))).toBeLessThan(1e-4);
    network.dispose();
  });

  it('rejects layers it cannot compile, by name', async () => {
    await tf.setBackend('cpu');
    const { files } = await tinyNetwork();
    const layers = files.layers.map((l) => (l.name === 'r2' ? { ...l, config: { ...l.config, activation: 'tanh' } } : l));
    expect(() => compileKerasNetwork({ ...files, layers }, 'logits')).toThrow(/r2 \(Activation\): activation tanh is not supported/);
  });
});
