import * as tf from '@tensorflow/tfjs-core';

/**
 * A convolution (+ bias, + optional ReLU) whose backward pass gives the gradient with
 * respect to its input only. Attacks never need filter gradients, yet TensorFlow.js's fused conv2d
 * computes them on every backward pass — and on wasm its Conv2DBackpropFilter kernel does
 * not even exist. The backward pass here is a forward convolution (the fast path on every
 * backend) with a kernel prepared once at load; see `prepareBackward` for how strides are
 * handled without paying for the zeros a dilated gradient would hold.
 */
export interface ConvSpec {
  filter: tf.Tensor4D; // [kh, kw, in, out]
  bias: tf.Tensor1D;
  strides: [number, number];
  padding: 'same' | 'valid';
  relu: boolean;
  /** With a ReLU: conv + bias as one op and the ReLU as another (see CompileOptions.tapeArithmetic). */
  splitRelu?: boolean;
}

export interface InputOnlyConv {
  /** The convolution + bias (+ ReLU): one fused kernel, unless `splitRelu`. */
  forward(x: tf.Tensor4D): tf.Tensor4D;
  /** dL/dx from dL/d(conv + bias), i.e. after the ReLU's mask (the caller applies it). */
  backward(dy: tf.Tensor4D, inputShape: number[]): tf.Tensor4D;
  dispose(): void;
}

export function createInputOnlyConv(spec: ConvSpec): InputOnlyConv {
  const { filter, bias, strides, padding, relu } = spec;
  const prepared = prepareBackward(filter, strides, padding);
  const fused = (x: tf.Tensor4D): tf.Tensor4D => tf.fused.conv2d({ x, filter, bias, strides, pad: padding, activation: relu ? 'relu' : 'linear' });
  // What tf.fused.conv2d itself runs under a gradient tape.
  const split = (x: tf.Tensor4D): tf.Tensor4D => tf.tidy(() => tf.relu(tf.add(tf.conv2d(x, filter, strides, padding), bias)) as tf.Tensor4D);
  return {
    forward: relu && spec.splitRelu ? split : fused,
    // tidy: the padded gradient is freed at once, for the next op to reuse.
    backward: (dy, inputShape) => tf.tidy(() => prepared.apply(dy, inputShape)),
    dispose: () => {
      filter.dispose();
      bias.dispose();
      prepared.dispose();
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

/** dL/dx of one convolution from dL/dy; `apply` takes dy and the forward input's shape. */
export interface ConvBackward {
  apply(dy: tf.Tensor4D, inputShape: number[]): tf.Tensor4D;
  dispose(): void;
}

/**
 * The forward convolution reads padded-input position o·s + k, so dL/dx at padded position
 * i sums dy[o]·W[k] over o·s + k = i. Three ways to compute that with forward convolutions:
 * - stride 1: the full correlation of dy with the flipped, channel-swapped kernel (for an
 *   odd kernel with 'same' padding, simply a 'same' correlation);
 * - 1×1, strided: mix channels at the low resolution, then spread out with zeros;
 * - k×k, strided (polyphase): position i = s·m + p only meets kernel taps k ≡ p (mod s), so
 *   each of the s² phases is a small full correlation with every s-th tap; all phases run
 *   as the output channels of one convolution and depthToSpace interleaves them. That costs
 *   what the forward pass costs, where correlating a zero-dilated dy would cost s² times it
 *   (ResNet50's 7×7 stride-2 stem: 4×).
 */
export function prepareBackward(filter: tf.Tensor4D, strides: [number, number], padding: 'same' | 'valid'): ConvBackward {
  const [kh, kw, inC, outC] = filter.shape;
  const [sh, sw] = strides;
  // The window of padded input that dL/dx is read from, per axis: crop [padBefore, +size).
  const crop = (grad: tf.Tensor4D, inputShape: number[]): tf.Tensor4D => {
    const [, inH, inW] = inputShape;
    const top = convPadding(inH, kh, sh, padding)[0];
    const left = convPadding(inW, kw, sw, padding)[0];
    return padOrCrop(grad, [-top, inH + top - grad.shape[1], -left, inW + left - grad.shape[2]]);
  };

  if (kh === 1 && kw === 1) {
    const mixFilter = tf.tidy(() => tf.transpose(filter, [0, 1, 3, 2]) as tf.Tensor4D);
    return {
      apply: (dy, inputShape) => crop(dilate(tf.conv2d(dy, mixFilter, 1, 'valid'), strides), inputShape),
      dispose: () => mixFilter.dispose(),
    };
  }

  const s = sh;
  const phases = sh === sw && sh > 1 ? s : 1;
  // Taps per phase (the stride-1 case is one phase holding the whole kernel).
  const [th, tw] = [Math.ceil(kh / phases), Math.ceil(kw / phases)];
  const kernel = tf.tensor4d(polyphaseKernel(filter.dataSync() as Float32Array, [kh, kw, inC, outC], phases), [th, tw, outC, phases * phases * inC]);
  return {
    apply: (dy, inputShape) => {
      if (phases === 1 && (sh > 1 || sw > 1)) {
        // Unequal strides: correlate the zero-dilated dy (never met in ResNet-style models).
        const full = padOrCrop(dilate(dy, strides), [kh - 1, kh - sh, kw - 1, kw - sw]);
        return crop(tf.conv2d(full, kernel, 1, 'valid'), inputShape);
      }
      // Stride 1, 'same', odd kernel: the padding is symmetric, so the full correlation cropped
      // to the input is a 'same' correlation — no padded copy of dy, no outputs to crop away.
      if (phases === 1 && padding === 'same' && kh % 2 === 1 && kw % 2 === 1) return tf.conv2d(dy, kernel, 1, 'same');
      const [, inH, inW] = inputShape;
      // Phase rows and columns covering every padded-input position up to the input's end.
      const rows = Math.ceil((inH + convPadding(inH, kh, sh, padding)[0]) / phases);
      const cols = Math.ceil((inW + convPadding(inW, kw, sw, padding)[0]) / phases);
      const [, outH, outW] = dy.shape;
      // A full correlation: th − 1 zeros before dy, and enough after to reach `rows` outputs.
      const padded = padOrCrop(dy, [th - 1, rows - outH, tw - 1, cols - outW]);
      const perPhase = tf.conv2d(padded, kernel, 1, 'valid');
      return crop(phases === 1 ? perPhase : tf.depthToSpace(perPhase, phases, 'NHWC'), inputShape);
    },
    dispose: () => kernel.dispose(),
  };
}

/**
 * The backward kernel [th, tw, out, s²·in] from the forward one [kh, kw, in, out]: output
 * channel (p·s + q)·in + c of tap (a, b) holds W[p + s·(th − 1 − a), q + s·(tw − 1 − b), c]
 * (flipped, every s-th tap, zero beyond the kernel) — depthToSpace's channel order.
 */
function polyphaseKernel(w: Float32Array, [kh, kw, inC, outC]: number[], s: number): Float32Array {
  const [th, tw] = [Math.ceil(kh / s), Math.ceil(kw / s)];
  const channels = s * s * inC;
  const out = new Float32Array(th * tw * outC * channels);
  for (let a = 0; a < th; a++) {
    for (let b = 0; b < tw; b++) {
      for (let p = 0; p < s; p++) {
        for (let q = 0; q < s; q++) {
          const y = p + s * (th - 1 - a);
          const x = q + s * (tw - 1 - b);
          if (y >= kh || x >= kw) continue;
          for (let c = 0; c < inC; c++) {
            for (let o = 0; o < outC; o++) {
              out[((a * tw + b) * outC + o) * channels + (p * s + q) * inC + c] = w[((y * kw + x) * inC + c) * outC + o];
            }
          }
        }
      }
    }
  }
  return out;
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
  const [, h, w] = x.shape;
  const [cropTop, cropLeft] = [Math.max(-top, 0), Math.max(-left, 0)];
  const cropped = cropSpatial(x, cropTop, cropLeft, h - cropTop - Math.max(-bottom, 0), w - cropLeft - Math.max(-right, 0));
  const pads: [number, number][] = [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]];
  return pads.some(([a, b]) => a > 0 || b > 0) ? tf.pad(cropped, pads) : cropped;
}

/**
 * x[:, top : top + h, left : left + w, :]. Sliced as rows of w·c values: wasm's Slice copies
 * one innermost run at a time, so slicing NHWC directly makes h·w small copies (ms).
 */
export function cropSpatial(x: tf.Tensor4D, top: number, left: number, h: number, w: number): tf.Tensor4D {
  const [n, height, width, c] = x.shape;
  if (top === 0 && left === 0 && h === height && w === width) return x;
  return tf.tidy(() => tf.reshape(tf.slice(tf.reshape(x, [n, height, width * c]), [0, top, left * c], [n, h, w * c]), [n, h, w, c]));
}
