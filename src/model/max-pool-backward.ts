import * as tf from '@tensorflow/tfjs-core';
import { convPadding } from './input-only-conv';

export interface MaxPoolSpec {
  pool: [number, number];
  strides: [number, number];
  padding: 'same' | 'valid';
}

/**
 * dL/dx of a max-pool: each window's dy goes to the window's largest input, on a tie the
 * first one (as TensorFlow and tfjs's cpu kernel do; wasm's kernel settles ties its own
 * way — each choice is a valid subgradient). wasm's MaxPoolGrad kernel takes ≈ 25 ms on
 * ResNet50's pool (60× the pool itself); where tensors live in JS-visible memory (wasm,
 * cpu) one pass over the windows here takes a few. Elsewhere (a GPU) the kernel runs.
 */
export function maxPoolBackward(dy: tf.Tensor4D, input: tf.Tensor4D, output: tf.Tensor4D, spec: MaxPoolSpec): tf.Tensor4D {
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') {
    return tf.engine().runKernel(tf.MaxPoolGrad, { dy, input, output }, { filterSize: spec.pool, strides: spec.strides, pad: spec.padding }) as tf.Tensor4D;
  }
  const [n, h, w, c] = input.shape;
  const [, outH, outW] = dy.shape;
  const [ph, pw] = spec.pool;
  const [sh, sw] = spec.strides;
  const top = convPadding(h, ph, sh, spec.padding)[0];
  const left = convPadding(w, pw, sw, spec.padding)[0];
  const x = input.dataSync() as Float32Array;
  const g = dy.dataSync() as Float32Array;
  const dx = new Float32Array(x.length);
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        best.fill(-Infinity);
        at.fill(-1);
        // Window positions in row-major order, channels innermost (NHWC is contiguous there).
        for (let ky = 0; ky < ph; ky++) {
          const iy = oy * sh - top + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < pw; kx++) {
            const ix = ox * sw - left + kx;
            if (ix < 0 || ix >= w) continue;
            const base = ((b * h + iy) * w + ix) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = x[base + ch];
              if (v > best[ch]) {
                best[ch] = v;
                at[ch] = base + ch;
              }
            }
          }
        }
        const gBase = ((b * outH + oy) * outW + ox) * c;
        for (let ch = 0; ch < c; ch++) if (at[ch] >= 0) dx[at[ch]] += g[gBase + ch];
      }
    }
  }
  return tf.tensor4d(dx, [n, h, w, c]);
}
