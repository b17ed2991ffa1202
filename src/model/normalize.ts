import * as tf from '@tensorflow/tfjs-core';
import type { ModelManifest } from './manifest';

/**
 * The model's preprocessing, as the first layer of the network, so that attacks work on raw
 * pixels in [0, 1]: x·scale, RGB→BGR if the weights want it, minus the per-channel mean
 * (given in the weights' channel order). For the Keras ResNet50: x·255, BGR, − [103.939,
 * 116.779, 123.68], no division.
 */
export interface Normalizer {
  apply(x: tf.Tensor4D): tf.Tensor4D;
  /** dL/dx from dL/d(normalised x): the scale, and the channel swap undone. */
  backward(dy: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

export function createNormalizer(pre: ModelManifest['preprocessing']): Normalizer {
  const mean = tf.tensor1d(pre.mean);
  const swap = pre.channelOrder === 'BGR';
  return {
    apply: (x) => tf.sub(tf.mul(swap ? tf.reverse(x, 3) : x, pre.scale), mean),
    backward: (dy) => {
      const scaled = tf.mul(dy, pre.scale) as tf.Tensor4D;
      return swap ? tf.reverse(scaled, 3) : scaled;
    },
    dispose: () => mean.dispose(),
  };
}
