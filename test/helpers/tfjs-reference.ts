import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { LossCoefficients } from '../../src/model/engine';
import type { Network } from '../../src/model/keras-network';
import type { ModelManifest } from '../../src/model/manifest';
import { createNormalizer } from '../../src/model/normalize';
import { maxRelativeError } from './numeric';

/** The references the TensorFlow.js weight-gradient tests (unit and engine tiers) check against. */

type Preprocessing = ModelManifest['preprocessing'];

/**
 * tf.grad's filter gradient on wasm, for the reference: the backend has no Conv2DBackpropFilter
 * (and its Conv3DBackpropFilterV2, the same sum over a depth of 1, disagrees with the cpu
 * backend once there are strides), so here it is as the sum written out, in float64.
 */
export function registerWasmConv2DBackpropFilter(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { strides, pad, filterShape } = attrs as { strides: number | [number, number]; pad: 'same' | 'valid'; filterShape: [number, number, number, number] };
      const conv = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad);
      const wasm = backend as unknown as {
        readSync(dataId: tf.TensorInfo['dataId']): Float32Array;
        makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
        typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
      };
      const out = wasm.makeOutput(filterShape, 'float32');
      wasm.typedArrayFromHeap(out).set(filterGradient(wasm.readSync(x.dataId), wasm.readSync(dy.dataId), conv));
      return out;
    },
  });
}

/** dL/dW[i, j, c, o] = Σ over n, p, q of x[n, s·p + i − top, s·q + j − left, c] · dy[n, p, q, o]. */
function filterGradient(x: Float32Array, dy: Float32Array, conv: tf.backend_util.Conv2DInfo): Float64Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = conv;
  const sum = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let n = 0; n < batchSize; n++) {
    for (let p = 0; p < outHeight; p++) {
      for (let q = 0; q < outWidth; q++) {
        const dyAt = ((n * outHeight + p) * outWidth + q) * outChannels;
        for (let i = 0; i < filterHeight; i++) {
          const row = p * strideHeight + i - padInfo.top;
          for (let j = 0; j < filterWidth && row >= 0 && row < inHeight; j++) {
            const col = q * strideWidth + j - padInfo.left;
            if (col < 0 || col >= inWidth) continue;
            const xAt = ((n * inHeight + row) * inWidth + col) * inChannels;
            for (let c = 0; c < inChannels; c++) {
              const at = ((i * filterWidth + j) * inChannels + c) * outChannels;
              for (let o = 0; o < outChannels; o++) sum[at + o] += x[xAt + c] * dy[dyAt + o];
            }
          }
        }
      }
    }
  }
  return sum;
}

/**
 * d(Σ over the batch of L)/dθ by tf.variableGrads, through the same graph compiled for
 * TensorFlow.js's own autodiff with the arithmetic of its tape, its weights the variables of
 * the parameters it was compiled with: the reference.
 */
export function referenceGradients(reference: Network, preprocessing: Preprocessing, x: tf.Tensor4D, loss: LossCoefficients): Float32Array[] {
  reference.readParameters();
  const normalizer = createNormalizer(preprocessing);
  const shape: [number, number] = [x.shape[0], loss.a.length / x.shape[0]];
  const gradients = tf.tidy(() => {
    const [a, b] = [tf.tensor2d(loss.a, shape), tf.tensor2d(loss.b, shape)];
    const objective = (): tf.Scalar => {
      const z = reference.apply(normalizer.apply(x));
      return tf.sum(tf.add(tf.sum(tf.mul(a, tf.logSoftmax(z)), 1), tf.sum(tf.mul(b, z), 1)));
    };
    const { grads } = tf.variableGrads(objective, [...reference.variables]);
    return reference.variables.map((v) => grads[v.name]);
  });
  normalizer.dispose();
  const values = gradients.map((g) => g.dataSync() as Float32Array);
  tf.dispose(gradients);
  return values;
}

/** The gradients whose largest relative error is `bound` or more, with it, by parameter name (every one named if one fails). */
export function errorsOver(names: string[], actual: Float32Array[], expected: Float32Array[], bound: number): [string, number][] {
  const errors = names.map((name, i): [string, number] => [name, actual[i].length === expected[i].length ? maxRelativeError(actual[i], expected[i]) : Infinity]);
  return errors.filter(([, error]) => !(error < bound));
}
