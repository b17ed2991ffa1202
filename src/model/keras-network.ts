import * as tf from '@tensorflow/tfjs-core';
import { createInputOnlyConv, type InputOnlyConv } from './input-only-conv';
import type { KerasLayerConfig, LayersModelFiles } from './weights';

/**
 * Compiles a Keras functional model (as read from a TensorFlow.js layers model) into a
 * lean inference-and-input-gradient network:
 * - batch normalisation is folded into the preceding convolution's kernel and bias,
 *   and a following ReLU is fused into it, so one conv op does conv+BN+ReLU;
 * - every convolution differentiates with respect to its input only (input-only-conv.ts);
 * - the layer named `logitsLayer` is evaluated without its activation, so the network
 *   returns logits (the Keras model ends in softmax).
 * The supported layers are the ones ResNet-style Keras models use; others are rejected
 * at load, by name, rather than computed wrongly.
 */
export interface Network {
  /** [n, h, w, c] input of the first layer → [n, classes] logits. Call inside tidy/grad. */
  apply(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

type LayerFn = (inputs: tf.Tensor[]) => tf.Tensor;

interface CompiledLayer {
  name: string;
  inputs: string[];
  run: LayerFn;
}

const BN_DEFAULT_EPSILON = 1e-3;

export function compileKerasNetwork(files: LayersModelFiles, logitsLayer: string): Network {
  const { layers, weights } = files;
  const consumers = countConsumers(layers);
  const byName = new Map(layers.map((l) => [l.name, l]));
  const aliases = new Map<string, string>(); // folded layer → layer whose output it is
  const owned: { dispose(): void }[] = [];
  const compiled: CompiledLayer[] = [];
  let inputName: string | undefined;

  const weight = (name: string): tf.Tensor => {
    const t = weights[name];
    if (!t) throw new Error(`model weights lack ${name}`);
    return t;
  };
  const resolve = (name: string): string => aliases.get(name) ?? name;
  const soleConsumer = (layer: KerasLayerConfig): KerasLayerConfig | undefined => {
    const next = layers.filter((l) => inboundNames(l).includes(layer.name));
    return next.length === 1 && consumers.get(layer.name) === 1 ? byName.get(next[0].name) : undefined;
  };

  for (const layer of layers) {
    if (aliases.has(layer.name)) continue;
    const inputs = inboundNames(layer).map(resolve);
    const cfg = layer.config;
    switch (layer.class_name) {
      case 'InputLayer':
        inputName = layer.name;
        continue;
      case 'Conv2D': {
        assertConfig(layer, cfg.data_format === 'channels_last', 'data_format channels_last');
        assertConfig(layer, String(cfg.dilation_rate) === '1,1', 'dilation_rate [1, 1]');
        const bn = soleConsumer(layer);
        const foldsBatchNorm = bn?.class_name === 'BatchNormalization';
        // The network owns copies of its weights, so the raw weight map can be disposed.
        const [filter, bias] = tf.tidy(() => {
          const kernel = weight(`${layer.name}/kernel`) as tf.Tensor4D;
          const rawBias = cfg.use_bias ? (weight(`${layer.name}/bias`) as tf.Tensor1D) : (tf.zeros([kernel.shape[3]]) as tf.Tensor1D);
          return bn && foldsBatchNorm ? foldBatchNorm(kernel, rawBias, bn, weight) : [kernel.clone(), rawBias.clone()];
        });
        if (bn && foldsBatchNorm) aliases.set(bn.name, layer.name);
        const last = bn && foldsBatchNorm ? bn : layer;
        let relu = activationOf(layer) === 'relu';
        const act = soleConsumer(last);
        if (!relu && act?.class_name === 'Activation' && act.config.activation === 'relu') {
          aliases.set(act.name, layer.name);
          relu = true;
        } else if (activationOf(layer) !== 'linear' && !relu) {
          throw unsupported(layer, `activation ${activationOf(layer)}`);
        }
        const conv: InputOnlyConv = createInputOnlyConv({
          filter,
          bias,
          strides: cfg.strides as [number, number],
          padding: cfg.padding as 'same' | 'valid',
          relu,
        });
        owned.push(conv);
        compiled.push({ name: layer.name, inputs, run: ([x]) => conv.apply(x as tf.Tensor4D) });
        continue;
      }
      case 'BatchNormalization': {
        const [scale, shift] = batchNormAffine(layer, weight);
        owned.push(scale, shift);
        compiled.push({ name: layer.name, inputs, run: ([x]) => tf.add(tf.mul(x, scale), shift) });
        continue;
      }
      case 'Activation':
        if (cfg.activation !== 'relu') throw unsupported(layer, `activation ${String(cfg.activation)}`);
        compiled.push({ name: layer.name, inputs, run: ([x]) => tf.relu(x) });
        continue;
      case 'ZeroPadding2D': {
        const [[t, b], [l, r]] = cfg.padding as [[number, number], [number, number]];
        compiled.push({ name: layer.name, inputs, run: ([x]) => tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]) });
        continue;
      }
      case 'MaxPooling2D': {
        const pool = cfg.pool_size as [number, number];
        const strides = cfg.strides as [number, number];
        const pad = cfg.padding as 'same' | 'valid';
        compiled.push({ name: layer.name, inputs, run: ([x]) => tf.maxPool(x as tf.Tensor4D, pool, strides, pad) });
        continue;
      }
      case 'Add':
        compiled.push({ name: layer.name, inputs, run: (xs) => (xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs)) });
        continue;
      case 'GlobalAveragePooling2D':
        compiled.push({ name: layer.name, inputs, run: ([x]) => tf.mean(x, [1, 2]) });
        continue;
      case 'Dense': {
        const kernel = weight(`${layer.name}/kernel`).clone() as tf.Tensor2D;
        const bias = cfg.use_bias ? weight(`${layer.name}/bias`).clone() : tf.zeros([kernel.shape[1]]);
        owned.push(kernel, bias);
        const activation = layer.name === logitsLayer ? 'linear' : activationOf(layer);
        if (activation !== 'linear' && activation !== 'relu') throw unsupported(layer, `activation ${activation}`);
        compiled.push({
          name: layer.name,
          inputs,
          run: ([x]) => {
            const y = tf.add(tf.matMul(x as tf.Tensor2D, kernel), bias);
            return activation === 'relu' ? tf.relu(y) : y;
          },
        });
        continue;
      }
      default:
        throw unsupported(layer, 'this layer type');
    }
  }
  if (!inputName) throw new Error('model has no InputLayer');
  if (!compiled.some((l) => l.name === logitsLayer)) throw new Error(`model has no layer ${logitsLayer}`);
  const input = inputName;
  const remainingUses = countUses(compiled, logitsLayer);

  return {
    apply(x) {
      // Intermediate results are dropped as soon as their last consumer ran (gradients keep
      // what they need through the tape).
      const values = new Map<string, tf.Tensor>([[input, x]]);
      const uses = new Map(remainingUses);
      for (const layer of compiled) {
        const args = layer.inputs.map((name) => {
          const v = values.get(name);
          if (!v) throw new Error(`internal: ${name} not computed before ${layer.name}`);
          return v;
        });
        values.set(layer.name, layer.run(args));
        if (layer.name === logitsLayer) return values.get(layer.name) as tf.Tensor2D;
        for (const name of layer.inputs) {
          const left = (uses.get(name) ?? 0) - 1;
          uses.set(name, left);
          if (left === 0) values.delete(name);
        }
      }
      throw new Error(`internal: ${logitsLayer} was not reached`);
    },
    dispose() {
      owned.forEach((o) => o.dispose());
    },
  };
}

function inboundNames(layer: KerasLayerConfig): string[] {
  if (layer.inbound_nodes.length > 1) throw unsupported(layer, 'a layer shared between several calls');
  return (layer.inbound_nodes[0] ?? []).map(([name]) => name);
}

function countConsumers(layers: KerasLayerConfig[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of layers) for (const name of inboundNames(l)) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

function countUses(compiled: CompiledLayer[], until: string): Map<string, number> {
  const uses = new Map<string, number>();
  for (const l of compiled) {
    for (const name of l.inputs) uses.set(name, (uses.get(name) ?? 0) + 1);
    if (l.name === until) break;
  }
  return uses;
}

function activationOf(layer: KerasLayerConfig): string {
  return typeof layer.config.activation === 'string' ? layer.config.activation : 'linear';
}

/** BN(x) = scale·x + shift with scale = γ/√(var+ε), shift = β − mean·scale. */
function batchNormAffine(bn: KerasLayerConfig, weight: (name: string) => tf.Tensor): [tf.Tensor1D, tf.Tensor1D] {
  const axis = String(bn.config.axis); // Keras writes [3] or -1 for channels-last
  if (axis !== '3' && axis !== '-1') throw unsupported(bn, `axis ${axis}`);
  const eps = typeof bn.config.epsilon === 'number' ? bn.config.epsilon : BN_DEFAULT_EPSILON;
  return tf.tidy(() => {
    const mean = weight(`${bn.name}/moving_mean`);
    const variance = weight(`${bn.name}/moving_variance`);
    const gamma = bn.config.scale === false ? tf.onesLike(mean) : weight(`${bn.name}/gamma`);
    const beta = bn.config.center === false ? tf.zerosLike(mean) : weight(`${bn.name}/beta`);
    const scale = tf.div(gamma, tf.sqrt(tf.add(variance, eps))) as tf.Tensor1D;
    const shift = tf.sub(beta, tf.mul(mean, scale)) as tf.Tensor1D;
    return [scale, shift];
  });
}

/** Conv then BN = conv with kernel·scale and bias·scale + shift (per output channel). Call inside tidy. */
function foldBatchNorm(
  kernel: tf.Tensor4D,
  bias: tf.Tensor1D,
  bn: KerasLayerConfig,
  weight: (name: string) => tf.Tensor,
): [tf.Tensor4D, tf.Tensor1D] {
  const [scale, shift] = batchNormAffine(bn, weight);
  return [tf.mul(kernel, scale), tf.add(tf.mul(bias, scale), shift)];
}

function assertConfig(layer: KerasLayerConfig, ok: boolean, what: string): void {
  if (!ok) throw unsupported(layer, `a configuration other than ${what}`);
}

function unsupported(layer: KerasLayerConfig, what: string): Error {
  return new Error(`cannot compile layer ${layer.name} (${layer.class_name}): ${what} is not supported`);
}
