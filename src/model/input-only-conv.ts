import * as tf from '@tensorflow/tfjs-core';

/**
 * A convolution (+ bias, + optional ReLU) whose gradient is taken with respect to its
 * input only. Attacks never need filter gradients, yet TensorFlow.js's fused conv2d
 * computes them on every backward pass — and on wasm its Conv2DBackpropFilter kernel does
 * not even exist. The backward pass here is one forward convolution with the flipped,
 * channel-transposed kernel (prepared once), over the incoming gradient dilated by the
 * stride: forward convolutions are the fast path on every backend.
 */
export interface ConvSpec {
  filter: tf.Tensor4D; // [kh, kw, in, out]
  bias: tf.Tensor1D;
  strides: [number, number];
  padding: 'same' | 'valid';
  relu: boolean;
}

export interface InputOnlyConv {
  apply(x: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

export function createInputOnlyConv(spec: ConvSpec): InputOnlyConv {
  const { filter, bias, strides, padding, relu } = spec;
  const [kh, kw] = filter.shape;
  // Backward kernel: rotate 180° spatially and swap in/out channels: [kh, kw, out, in].
  const backwardFilter = tf.tidy(() => tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D);

  const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    const y = tf.fused.conv2d({ x, filter, bias, strides, pad: padding, activation: relu ? 'relu' : 'linear' });
    save(relu ? [y] : []);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor4D => {
      const g = (relu ? tf.mul(dy, tf.step(saved[0])) : dy) as tf.Tensor4D;
      return convBackpropInput(g, x.shape, backwardFilter, [kh, kw], strides, padding);
    };
    return { value: y, gradFunc };
  });

  return {
    apply: (x) => conv(x) as tf.Tensor4D,
    dispose: () => {
      filter.dispose();
      bias.dispose();
      backwardFilter.dispose();
    },
  };
}

/** Padding TensorFlow applies before a convolution along one axis: [before, after]. */
export function convPadding(inputSize: number, kernel: number, stride: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [0, 0];
  const out = Math.ceil(inputSize / stride);
  const total = Math.max((out - 1) * stride + kernel - inputSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Inserts (stride − 1) zeros after every row and column: [n, h, w, c] → [n, h·sh, w·sw, c]. */
function dilate(x: tf.Tensor4D, [sh, sw]: [number, number]): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = tf.pad(tf.reshape(x, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.reshape(spread, [n, h * sh, w * sw, c]);
}

/** Pads (positive) or crops (negative) each spatial side of an NHWC tensor. */
function padOrCrop(x: tf.Tensor4D, [top, bottom, left, right]: [number, number, number, number]): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const cropped = tf.slice(x, [0, Math.max(-top, 0), Math.max(-left, 0), 0], [
    n,
    h - Math.max(-top, 0) - Math.max(-bottom, 0),
    w - Math.max(-left, 0) - Math.max(-right, 0),
    c,
  ]);
  const pads: [number, number][] = [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]];
  return pads.some(([a, b]) => a > 0 || b > 0) ? tf.pad(cropped, pads) : cropped;
}

/**
 * dL/dx of a convolution, given dL/dy. With the forward convolution reading padded-input
 * positions o·s + k, the input gradient is the full correlation of the stride-dilated dy
 * with the flipped kernel; the padding the forward pass added is cropped off again.
 */
export function convBackpropInput(
  dy: tf.Tensor4D,
  inputShape: number[],
  backwardFilter: tf.Tensor4D,
  [kh, kw]: [number, number],
  strides: [number, number],
  padding: 'same' | 'valid',
): tf.Tensor4D {
  const [, inH, inW] = inputShape;
  const [padTop] = convPadding(inH, kh, strides[0], padding);
  const [padLeft] = convPadding(inW, kw, strides[1], padding);
  const [, outH, outW] = dy.shape;
  if (kh === 1 && kw === 1) {
    // 1×1: mix channels at the low resolution first, then spread out (s² fewer FLOPs).
    const mixed = dilate(tf.conv2d(dy, backwardFilter, 1, 'valid'), strides);
    return padOrCrop(mixed, [-padTop, inH + padTop - outH * strides[0], -padLeft, inW + padLeft - outW * strides[1]]);
  }
  // Dilated dy has length out·s (s − 1 trailing zeros); surround it with k − 1 zeros for a
  // full correlation, whose output covers padded positions [0, (out − 1)·s + k).
  const dilated = dilate(dy, strides);
  const full = padOrCrop(dilated, [kh - 1, kh - strides[0], kw - 1, kw - strides[1]]);
  const grad = tf.conv2d(full, backwardFilter, 1, 'valid');
  const coveredH = (outH - 1) * strides[0] + kh;
  const coveredW = (outW - 1) * strides[1] + kw;
  return padOrCrop(grad, [-padTop, inH + padTop - coveredH, -padLeft, inW + padLeft - coveredW]);
}
