import type { KerasLayerConfig, LayersModelFiles, WeightArray } from './weights';

/**
 * A Keras functional model lowered to a small, framework-neutral graph that every engine
 * compiles from (TensorFlow.js ops, an ONNX graph):
 * - batch normalisation after a convolution is folded into its kernel and bias, and a
 *   following ReLU is fused into it, so one node does conv + BN + ReLU;
 * - the layer named `logitsLayer` is taken without its activation (the Keras model ends in
 *   softmax), and the graph ends there;
 * - every value's per-sample shape is known, and TensorFlow's 'same' padding is resolved
 *   to explicit [top, bottom, left, right] pads for engines that need them.
 * Only the layers ResNet-style models use are supported; others are rejected by name.
 */
export type Pads = [top: number, bottom: number, left: number, right: number];
export type Padding = 'same' | 'valid';

export interface ConvOp {
  kind: 'conv';
  name: string;
  input: string;
  kernel: WeightArray; // [kh, kw, in, out]
  bias: Float32Array;
  strides: [number, number];
  padding: Padding;
  pads: Pads;
  relu: boolean;
  /**
   * The batch normalisation folded into kernel and bias, if any: its per-channel scale
   * γ/√(var+ε) (training preconditions with it) and ε (saving trained weights resets it).
   */
  batchNorm?: { name: string; epsilon: number; scale: Float32Array };
}
/** A batch normalisation that follows no convolution: x·scale + shift per channel. */
export interface AffineOp {
  kind: 'affine';
  name: string;
  input: string;
  scale: Float32Array;
  shift: Float32Array;
}
export interface ReluOp {
  kind: 'relu';
  name: string;
  input: string;
}
export interface PadOp {
  kind: 'pad';
  name: string;
  input: string;
  pads: Pads;
}
export interface MaxPoolOp {
  kind: 'maxpool';
  name: string;
  input: string;
  pool: [number, number];
  strides: [number, number];
  padding: Padding;
  pads: Pads;
}
export interface AddOp {
  kind: 'add';
  name: string;
  inputs: string[];
}
export interface GlobalAveragePoolOp {
  kind: 'global-average-pool';
  name: string;
  input: string;
}
export interface DenseOp {
  kind: 'dense';
  name: string;
  input: string;
  kernel: WeightArray; // [in, out]
  bias: Float32Array;
  relu: boolean;
}
export type GraphOp = ConvOp | AffineOp | ReluOp | PadOp | MaxPoolOp | AddOp | GlobalAveragePoolOp | DenseOp;

/** The values an op reads. */
export const opInputs = (op: GraphOp): string[] => (op.kind === 'add' ? op.inputs : [op.input]);

export interface LayerGraph {
  input: string;
  /** Ops in evaluation order; the last one is the logits layer. */
  ops: GraphOp[];
  output: string;
  /** Per-sample shape of every value: [h, w, c] for feature maps, [c] after pooling. */
  shapes: Map<string, number[]>;
}

const BN_DEFAULT_EPSILON = 1e-3;

export function lowerKerasModel(files: LayersModelFiles, logitsLayer: string): LayerGraph {
  const { layers } = files;
  const consumers = consumersOf(layers);
  const byName = new Map(layers.map((l) => [l.name, l]));
  const aliases = new Map<string, string>(); // folded layer → the op whose output it is
  const shapes = new Map<string, number[]>();
  const ops: GraphOp[] = [];
  let input: string | undefined;

  const weight = (name: string): WeightArray => {
    const w = files.weights[name];
    if (!w) throw new Error(`model weights lack ${name}`);
    return w;
  };
  const resolve = (name: string): string => aliases.get(name) ?? name;
  const soleConsumer = (layer: KerasLayerConfig): KerasLayerConfig | undefined => {
    const next = consumers.get(layer.name) ?? [];
    return next.length === 1 ? byName.get(next[0]) : undefined;
  };
  const shapeOf = (name: string): number[] => {
    const s = shapes.get(name);
    if (!s) throw new Error(`internal: shape of ${name} unknown`);
    return s;
  };
  const push = (op: GraphOp, shape: number[]): void => {
    ops.push(op);
    shapes.set(op.name, shape);
  };

  for (const layer of layers) {
    if (aliases.has(layer.name)) continue;
    const inputs = inboundNames(layer).map(resolve);
    const cfg = layer.config;
    const name = layer.name;
    switch (layer.class_name) {
      case 'InputLayer': {
        const batchShape = cfg.batch_input_shape as (number | null)[];
        if (batchShape.length !== 4 || batchShape.slice(1).some((d) => typeof d !== 'number')) throw unsupported(layer, 'an input shape other than [batch, h, w, c]');
        input = name;
        shapes.set(name, batchShape.slice(1) as number[]);
        continue;
      }
      case 'Conv2D': {
        assertConfig(layer, cfg.data_format === 'channels_last', 'data_format channels_last');
        assertConfig(layer, String(cfg.dilation_rate) === '1,1', 'dilation_rate [1, 1]');
        const raw = weight(`${name}/kernel`);
        const [kh, kw, , out] = raw.shape;
        let kernel: WeightArray = { shape: raw.shape, data: raw.data.slice() };
        let bias = cfg.use_bias ? weight(`${name}/bias`).data.slice() : new Float32Array(out);
        let last = layer;
        let batchNorm: ConvOp['batchNorm'];
        const bn = soleConsumer(layer);
        if (bn?.class_name === 'BatchNormalization') {
          const { scale, shift } = batchNormAffine(bn, weight);
          kernel = { shape: kernel.shape, data: kernel.data.map((v, i) => v * scale[i % out]) };
          bias = bias.map((v, o) => v * scale[o] + shift[o]);
          aliases.set(bn.name, name);
          last = bn;
          batchNorm = { name: bn.name, epsilon: batchNormEpsilon(bn), scale };
        }
        let relu = activationOf(layer) === 'relu';
        if (!relu && activationOf(layer) !== 'linear') throw unsupported(layer, `activation ${activationOf(layer)}`);
        const act = soleConsumer(last);
        if (!relu && act?.class_name === 'Activation' && act.config.activation === 'relu') {
          aliases.set(act.name, name);
          relu = true;
        }
        const strides = cfg.strides as [number, number];
        const padding = cfg.padding as Padding;
        const [h, w] = shapeOf(inputs[0]);
        const pads = windowPads([h, w], [kh, kw], strides, padding);
        push({ kind: 'conv', name, input: inputs[0], kernel, bias, strides, padding, pads, relu, ...(batchNorm ? { batchNorm } : {}) }, [...windowOutput([h, w], [kh, kw], strides, pads), out]);
        continue;
      }
      case 'BatchNormalization': {
        const { scale, shift } = batchNormAffine(layer, weight);
        push({ kind: 'affine', name, input: inputs[0], scale, shift }, shapeOf(inputs[0]));
        continue;
      }
      case 'Activation':
        if (cfg.activation !== 'relu') throw unsupported(layer, `activation ${String(cfg.activation)}`);
        push({ kind: 'relu', name, input: inputs[0] }, shapeOf(inputs[0]));
        continue;
      case 'ZeroPadding2D': {
        const [[t, b], [l, r]] = cfg.padding as [[number, number], [number, number]];
        const [h, w, c] = shapeOf(inputs[0]);
        push({ kind: 'pad', name, input: inputs[0], pads: [t, b, l, r] }, [h + t + b, w + l + r, c]);
        continue;
      }
      case 'MaxPooling2D': {
        const pool = cfg.pool_size as [number, number];
        const strides = cfg.strides as [number, number];
        const padding = cfg.padding as Padding;
        const [h, w, c] = shapeOf(inputs[0]);
        const pads = windowPads([h, w], pool, strides, padding);
        push({ kind: 'maxpool', name, input: inputs[0], pool, strides, padding, pads }, [...windowOutput([h, w], pool, strides, pads), c]);
        continue;
      }
      case 'Add':
        push({ kind: 'add', name, inputs }, shapeOf(inputs[0]));
        continue;
      case 'GlobalAveragePooling2D':
        push({ kind: 'global-average-pool', name, input: inputs[0] }, [shapeOf(inputs[0])[2]]);
        continue;
      case 'Dense': {
        const kernel = weight(`${name}/kernel`);
        const out = kernel.shape[1];
        const bias = cfg.use_bias ? weight(`${name}/bias`).data : new Float32Array(out);
        const activation = name === logitsLayer ? 'linear' : activationOf(layer);
        if (activation !== 'linear' && activation !== 'relu') throw unsupported(layer, `activation ${activation}`);
        push({ kind: 'dense', name, input: inputs[0], kernel, bias, relu: activation === 'relu' }, [out]);
        if (name === logitsLayer) break;
        continue;
      }
      default:
        throw unsupported(layer, 'this layer type');
    }
    break; // only the logits layer leaves the loop early
  }
  if (!input) throw new Error('model has no InputLayer');
  if (ops.at(-1)?.name !== logitsLayer) throw new Error(`model has no Dense layer ${logitsLayer}`);
  return { input, ops, output: logitsLayer, shapes };
}

/** Output size of a window op (conv, pool) over explicitly padded input. */
function windowOutput([h, w]: number[], [kh, kw]: [number, number], [sh, sw]: [number, number], [t, b, l, r]: Pads): [number, number] {
  return [Math.floor((h + t + b - kh) / sh) + 1, Math.floor((w + l + r - kw) / sw) + 1];
}

/** The padding TensorFlow applies for 'same' (more after than before when odd) or 'valid'. */
function windowPads([h, w]: number[], [kh, kw]: [number, number], [sh, sw]: [number, number], padding: Padding): Pads {
  const along = (size: number, k: number, s: number): [number, number] => {
    if (padding === 'valid') return [0, 0];
    const total = Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [t, b] = along(h, kh, sh);
  const [l, r] = along(w, kw, sw);
  return [t, b, l, r];
}

function inboundNames(layer: KerasLayerConfig): string[] {
  if (layer.inbound_nodes.length > 1) throw unsupported(layer, 'a layer shared between several calls');
  return (layer.inbound_nodes[0] ?? []).map(([name]) => name);
}

function consumersOf(layers: KerasLayerConfig[]): Map<string, string[]> {
  const consumers = new Map<string, string[]>();
  for (const l of layers) for (const name of inboundNames(l)) consumers.set(name, [...(consumers.get(name) ?? []), l.name]);
  return consumers;
}

function activationOf(layer: KerasLayerConfig): string {
  return typeof layer.config.activation === 'string' ? layer.config.activation : 'linear';
}

/** BN(x) = scale·x + shift with scale = γ/√(var+ε), shift = β − mean·scale. */
function batchNormAffine(bn: KerasLayerConfig, weight: (name: string) => WeightArray): { scale: Float32Array; shift: Float32Array } {
  const axis = String(bn.config.axis); // Keras writes [3] or -1 for channels-last
  if (axis !== '3' && axis !== '-1') throw unsupported(bn, `axis ${axis}`);
  const eps = batchNormEpsilon(bn);
  const mean = weight(`${bn.name}/moving_mean`).data;
  const variance = weight(`${bn.name}/moving_variance`).data;
  const gamma = bn.config.scale === false ? undefined : weight(`${bn.name}/gamma`).data;
  const beta = bn.config.center === false ? undefined : weight(`${bn.name}/beta`).data;
  const scale = mean.map((_, c) => (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps));
  const shift = mean.map((m, c) => (beta ? beta[c] : 0) - m * scale[c]);
  return { scale, shift };
}

function batchNormEpsilon(bn: KerasLayerConfig): number {
  return typeof bn.config.epsilon === 'number' ? bn.config.epsilon : BN_DEFAULT_EPSILON;
}

function assertConfig(layer: KerasLayerConfig, ok: boolean, what: string): void {
  if (!ok) throw unsupported(layer, `a configuration other than ${what}`);
}

function unsupported(layer: KerasLayerConfig, what: string): Error {
  return new Error(`cannot compile layer ${layer.name} (${layer.class_name}): ${what} is not supported`);
}
