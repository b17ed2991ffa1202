import * as tf from '@tensorflow/tfjs-core';
import { cropSpatial, prepareBackward } from './input-only-conv';
import type { CompiledOp } from './keras-network';
import type { ConvOp, DenseOp, GraphOp, LayerGraph } from './layer-graph';
import type { Parameter } from './trainable';

/**
 * The trained ops of keras-network.ts (adversarial training: θ := θ − α·∇θL): convolutions
 * and dense layers whose weights follow the parameters (trainable.ts) and whose backward
 * pass also gives dL/dkernel and dL/dbias. No autodiff: the kernel gradient is written as a
 * forward convolution, which every backend has (wasm has no Conv2DBackpropFilter).
 */

export interface WeightGradients {
  kernel: tf.Tensor;
  bias: tf.Tensor;
}

/** A trained op with its weights: a parameter's variable, or a constant where no parameter names it. */
export interface TrainedWeights {
  op: ConvOp | DenseOp;
  kernel: tf.Tensor;
  bias: tf.Tensor;
}

/**
 * The parameters as variables. The optimiser changes `parameter.data` in place between calls;
 * `read` (at the start of every call) assigns each variable whose parameter changed a copy of
 * it: the number of tensors stays constant (assign swaps the data under the same tensor),
 * passes inside tidy, customGrad or a gradient tape read the variables like any weight, and
 * tf.variableGrads can differentiate by them (the tests' reference). Only what changed is
 * assigned, because on wasm a convolution whose filter or bias data changes has its XNNPACK
 * operator rebuilt and its weights repacked on next use: reassigning ResNet50's last stage
 * on every call made a forward pass 0.8 s instead of 0.4 s, where the parameters change once
 * per optimiser step and the inner attack makes several calls in between. The comparison
 * with the last values read costs ~10 ms per 15 M weights and keeps that copy (a copy, not
 * the array itself, which the cpu backend would hold by reference: a pass reads one snapshot).
 */
export interface ParameterVariables {
  /** One per parameter, in their order. */
  readonly variables: readonly tf.Variable[];
  /** The weights of an op a parameter belongs to; undefined for every other op. */
  weightsOf(op: GraphOp): TrainedWeights | undefined;
  /** Takes the parameters' current values; returns the ops whose weights changed. */
  read(): Set<string>;
  /** dL/dθ in the parameters' order from each trained op's gradients (those no parameter takes are freed). */
  gradients(byOp: Map<string, WeightGradients>): tf.Tensor[];
  dispose(): void;
}

export function createParameterVariables(graph: LayerGraph, parameters: readonly Parameter[]): ParameterVariables {
  const weighted = new Map(graph.ops.flatMap((op) => (op.kind === 'conv' || op.kind === 'dense' ? [[op.name, op] as const] : [])));
  parameters.forEach((p) => checkParameter(p, weighted.get(p.op), parameters));
  const lastRead = parameters.map((p) => p.data.slice());
  const variables = parameters.map((p, i) => tf.tidy(() => tf.variable(tf.tensor(lastRead[i], p.shape))));
  const variableOf = (op: string, role: Parameter['role']): tf.Variable | undefined => variables[parameters.findIndex((p) => p.op === op && p.role === role)];
  const constants: tf.Tensor[] = [];
  const constant = (t: tf.Tensor): tf.Tensor => (constants.push(t), t);
  const trained = new Map(
    [...new Set(parameters.map((p) => p.op))].map((name) => {
      const op = weighted.get(name) as ConvOp | DenseOp;
      const kernel = variableOf(name, 'kernel') ?? constant(tf.tensor(op.kernel.data, op.kernel.shape));
      const bias = variableOf(name, 'bias') ?? constant(tf.tensor1d(op.bias));
      return [name, { op, kernel, bias }];
    }),
  );

  return {
    variables,
    weightsOf: (op) => trained.get(op.name),
    read() {
      const changed = new Set<string>();
      parameters.forEach((p, i) => {
        if (sameValues(p.data, lastRead[i])) return;
        lastRead[i] = p.data.slice();
        tf.tidy(() => variables[i].assign(tf.tensor(lastRead[i], p.shape)));
        changed.add(p.op);
      });
      return changed;
    },
    gradients(byOp) {
      // An op off every path to the logits gets no gradient walk: its gradient is zero.
      const out = parameters.map((p) => byOp.get(p.op)?.[p.role] ?? tf.zeros(p.shape));
      for (const g of byOp.values()) [g.kernel, g.bias].filter((t) => !out.includes(t)).forEach((t) => t.dispose());
      return out;
    },
    dispose: () => tf.dispose([...variables, ...constants]),
  };
}

function checkParameter(p: Parameter, op: ConvOp | DenseOp | undefined, all: readonly Parameter[]): void {
  if (!op) throw new Error(`parameter ${p.name}: the model has no convolution or dense layer ${p.op}`);
  const shape = p.role === 'kernel' ? op.kernel.shape : [op.bias.length];
  if (String(p.shape) !== String(shape) || p.data.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new Error(`parameter ${p.name} has shape [${p.shape.join(', ')}] and ${p.data.length} values; its layer's ${p.role} is [${shape.join(', ')}]`);
  }
  if (all.some((q) => q !== p && q.op === p.op && q.role === p.role)) throw new Error(`two parameters are ${p.op}'s ${p.role}`);
}

/** Bit for bit (memcmp: a few ms per 10 M values). */
const sameValues = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export function compileTrainedOp({ op, kernel, bias }: TrainedWeights, tapeArithmetic: boolean): CompiledOp {
  return op.kind === 'conv' ? trainedConv(op, kernel as tf.Tensor4D, bias as tf.Tensor1D, tapeArithmetic) : trainedDense(op, kernel as tf.Tensor2D, bias as tf.Tensor1D);
}

/** dy through a ReLU, from its output (call inside tidy). */
const masked = (dy: tf.Tensor, output: tf.Tensor, relu: boolean): tf.Tensor => (relu ? tf.mul(dy, tf.step(output)) : dy);

function trainedConv(op: ConvOp, kernel: tf.Tensor4D, bias: tf.Tensor1D, tapeArithmetic: boolean): CompiledOp {
  const { strides, padding, relu } = op;
  // As createInputOnlyConv: one fused op, or conv + bias and ReLU apart where a tape would split them.
  const forward = (x: tf.Tensor4D): tf.Tensor4D =>
    relu && tapeArithmetic
      ? tf.tidy(() => tf.relu(tf.add(tf.conv2d(x, kernel, strides, padding), bias)) as tf.Tensor4D)
      : tf.fused.conv2d({ x, filter: kernel, bias, strides, pad: padding, activation: relu ? 'relu' : 'linear' });
  // dL/dx as input-only-conv.ts computes it, from a kernel prepared from the current values.
  let backward = prepareBackward(kernel, strides, padding);
  const inputGradient = (dz: tf.Tensor4D, x: tf.Tensor): tf.Tensor4D => tf.tidy(() => backward.apply(dz, x.shape));
  return {
    forward: ([x]) => forward(x as tf.Tensor4D),
    backward: (dy, { inputs: [x], output }) => [tf.tidy(() => inputGradient(masked(dy, output, relu) as tf.Tensor4D, x))],
    keeps: { inputs: false, output: relu },
    weights: {
      keeps: { inputs: true, output: relu },
      backward: (dy, { inputs: [x], output }, withInputs) =>
        tf.tidy(() => {
          const dz = masked(dy, output, relu) as tf.Tensor4D;
          return { kernel: convKernelGradient(x as tf.Tensor4D, dz, op), bias: tf.sum(dz, [0, 1, 2]), inputs: withInputs ? [inputGradient(dz, x)] : [] };
        }),
    },
    reload() {
      backward.dispose();
      backward = prepareBackward(kernel, strides, padding);
    },
    dispose: () => backward.dispose(),
  };
}

/**
 * dL/dK[i, j, c, o] = Σ over n, p, q of xpad[n, s·p + i, s·q + j, c] · dz[n, p, q, o]: the
 * padded input with batch and channel axes swapped ([c, h, w, n]) convolved with dz as the
 * filter ([oh, ow, n, o]), dilated by the forward stride, stride 1, giving [c, kh, kw, o]. The
 * input is first cut to the s·(oh − 1) + kh rows the forward pass read: where the stride
 * leaves rows over, the output would otherwise grow past kh (ResNet50's strided 1×1
 * convolutions: 2×2 outputs, 4× the work, for one that is kept).
 */
function convKernelGradient(x: tf.Tensor4D, dz: tf.Tensor4D, op: ConvOp): tf.Tensor4D {
  const [kh, kw, c, o] = op.kernel.shape;
  const [sh, sw] = op.strides;
  // 1×1, stride 1 (no padding): the same sum as the matrix product xᵀ·dz over batch and
  // positions, 1.5 to 4 times faster on wasm for ResNet50's shapes than a convolution with a
  // 1×1 output. (Not with transposeA instead of the transpose: 4 to 10 times slower. Nor for
  // strides: wasm's strided slice costs more than it saves.)
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1) return tf.tidy(() => tf.reshape(tf.matMul(tf.transpose(tf.reshape(x, [-1, c])), tf.reshape(dz, [-1, o])), [1, 1, c, o]));
  const [t, , l] = op.pads;
  const [, h, w] = x.shape;
  const [, oh, ow] = dz.shape;
  const [rows, cols] = [sh * (oh - 1) + kh, sw * (ow - 1) + kw];
  return tf.tidy(() => {
    const [bottom, right] = [Math.max(rows - t - h, 0), Math.max(cols - l - w, 0)];
    const padded = t || bottom || l || right ? tf.pad(x, [[0, 0], [t, bottom], [l, right], [0, 0]]) : x;
    const read = cropSpatial(padded, 0, 0, rows, cols);
    const perChannel = tf.conv2d(tf.transpose(read, [3, 1, 2, 0]), tf.transpose(dz, [1, 2, 0, 3]), 1, 'valid', 'NHWC', [sh, sw]);
    return tf.transpose(perChannel, [1, 2, 0, 3]);
  });
}

function trainedDense(op: DenseOp, kernel: tf.Tensor2D, bias: tf.Tensor1D): CompiledOp {
  const { relu } = op;
  return {
    forward: ([x]) =>
      tf.tidy(() => {
        const y = tf.add(tf.matMul(x as tf.Tensor2D, kernel), bias);
        return relu ? tf.relu(y) : y;
      }),
    backward: (dy, { output }) => [tf.tidy(() => tf.matMul(masked(dy, output, relu) as tf.Tensor2D, kernel, false, true))],
    keeps: { inputs: false, output: relu },
    weights: {
      keeps: { inputs: true, output: relu },
      // dW = xᵀ·dz, db = Σ dz over the batch.
      backward: (dy, { inputs: [x], output }, withInputs) =>
        tf.tidy(() => {
          const dz = masked(dy, output, relu) as tf.Tensor2D;
          return { kernel: tf.matMul(x as tf.Tensor2D, dz, true, false), bias: tf.sum(dz, 0), inputs: withInputs ? [tf.matMul(dz, kernel, false, true)] : [] };
        }),
    },
  };
}
