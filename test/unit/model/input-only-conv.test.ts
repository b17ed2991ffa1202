import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { prepareBackward } from '../../../src/model/input-only-conv';

/** Deterministic values in [−1, 1). */
const values = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin((i + 1) * 12.9898 + seed * 78.233) % 1);

describe('prepareBackward: dL/dx of a convolution without filter gradients', () => {
  // [kernel h, kernel w, strides, padding, input h, input w]: ResNet50's stem (7×7 / 2 valid on
  // a padded input), 1×1 / 2 projections, stride 1, and odd sizes where phases are uneven.
  const cases: [number, number, [number, number], 'same' | 'valid', number, number][] = [
    [7, 7, [2, 2], 'valid', 23, 22],
    [3, 3, [2, 2], 'same', 10, 11],
    [5, 5, [3, 3], 'same', 13, 14],
    [2, 2, [2, 2], 'same', 9, 8],
    [1, 1, [2, 2], 'same', 9, 10],
    [1, 1, [1, 1], 'valid', 6, 6],
    [3, 3, [1, 1], 'same', 7, 9],
    [3, 3, [1, 1], 'valid', 7, 9],
    [4, 3, [2, 1], 'same', 9, 9],
  ];

  it.each(['cpu', 'wasm'])('matches tf.grad of conv2d on %s', async (backend) => {
    await tf.setBackend(backend);
    const errors: Record<string, number> = {};
    for (const [kh, kw, strides, padding, h, w] of cases) {
      const [inC, outC, n] = [3, 5, 2];
      const filter = tf.tensor4d(values(kh * kw * inC * outC, kh + 10 * strides[0]), [kh, kw, inC, outC]);
      const x = tf.tensor4d(values(n * h * w * inC, 7), [n, h, w, inC]);
      const y = tf.conv2d(x, filter, strides, padding);
      const dy = tf.tensor4d(values(y.size, 3), y.shape);
      const expected = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, filter, strides, padding), dy)))(x);
      const backward = prepareBackward(filter, strides, padding);
      const before = tf.memory().numTensors;
      const actual = tf.tidy(() => backward.apply(dy, x.shape));
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(actual.shape).toEqual(x.shape);
      const scale = tf.max(tf.abs(expected)).dataSync()[0];
      const error = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] / scale;
      errors[`${kh}×${kw} stride ${strides.join('×')} ${padding} on ${h}×${w}`] = error;
      backward.dispose();
      tf.dispose([filter, x, y, dy, expected, actual]);
    }
    // Relative to the largest gradient value; every case named if one fails.
    expect(Object.entries(errors).filter(([, error]) => !(error < 1e-5))).toEqual([]);
  });
});
