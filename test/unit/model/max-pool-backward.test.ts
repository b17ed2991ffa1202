import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { maxPoolBackward } from '../../../src/model/max-pool-backward';

describe('maxPoolBackward: dL/dx of a max-pool', () => {
  // [pool, strides, padding, input h, w]: ResNet50's pool (3×3 / 2 valid after a zero pad),
  // 'same' windows that hang over one or both edges, and non-overlapping windows.
  const cases: [[number, number], [number, number], 'same' | 'valid', number, number][] = [
    [[3, 3], [2, 2], 'valid', 11, 12],
    [[3, 3], [2, 2], 'same', 9, 10],
    [[3, 3], [2, 2], 'same', 10, 10],
    [[2, 2], [2, 2], 'valid', 8, 9],
    [[3, 3], [1, 1], 'same', 6, 7],
  ];

  // Ties go to the window's first maximum, as in TensorFlow and tfjs's cpu kernel; wasm's kernel
  // gives them to the last, so it is compared on values without ties.
  // Ties go to the window's first maximum, as in TensorFlow and tfjs's cpu kernel: checked on
  // values from a coarse grid, where many windows hold a tie. wasm's kernel settles ties its
  // own way (either is a subgradient), so it is compared on distinct values (a permutation).
  const withTies = (i: number) => Math.round(Math.sin(i * 7.31) * 3);
  const distinct = (i: number, n: number) => (i * 7919) % n;
  it.each([
    ['cpu', 'values with ties', withTies],
    ['cpu', 'distinct values', distinct],
    ['wasm', 'distinct values', distinct],
  ])('matches tf.grad of maxPool on %s, %s', async (backend, _, values) => {
    await tf.setBackend(backend);
    const mismatches: Record<string, number> = {};
    for (const [pool, strides, padding, h, w] of cases) {
      const x = tf.tensor4d(Float32Array.from({ length: 2 * h * w * 5 }, (_, i) => values(i, 2 * h * w * 5)), [2, h, w, 5]);
      const y = tf.maxPool(x, pool, strides, padding);
      const dy = tf.tensor4d(Float32Array.from({ length: y.size }, (_, i) => Math.cos(i)), y.shape);
      const expected = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, pool, strides, padding), dy)))(x);
      const actual = maxPoolBackward(dy, x, y, { pool, strides, padding });
      expect(actual.shape).toEqual(x.shape);
      const [a, e] = [actual.dataSync(), expected.dataSync()];
      mismatches[`${pool.join('×')} / ${strides.join('×')} ${padding} on ${h}×${w}`] = a.filter((v, i) => !(Math.abs(v - e[i]) < 1e-6)).length;
      tf.dispose([x, y, dy, expected, actual]);
    }
    expect(Object.entries(mismatches).filter(([, n]) => n > 0)).toEqual([]);
  });
});
