import * as tf from '@tensorflow/tfjs-core';
import { createInputOnlyConv } from './input-only-conv';
import { lowerKerasModel, type GraphOp, type LayerGraph } from './layer-graph';
import type { LayersModelFiles } from './weights';

/**
 * The lowered Keras graph (layer-graph.ts) as TensorFlow.js ops: one fused conv + bias +
 * ReLU per folded block, each differentiating with respect to its input only
 * (input-only-conv.ts), ending in logits.
 */
export interface Network {
  /** [n, h, w, c] input of the first layer → [n, classes] logits. Call inside tidy/grad. */
  apply(x: tf.Tensor4D): tf.Tensor2D;
  /** The same logits without gradient bookkeeping (classification, clean predictions). */
  forward(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/** `differentiable`: inside tf.grad (the convolutions' own backward pass is wired in). */
type OpFn = (inputs: tf.Tensor[], differentiable: boolean) => tf.Tensor;

export interface CompileOptions {
  /**
   * `input-only` (the service): each convolution's own backward pass (input-only-conv.ts).
   * `autodiff`: the same fused conv2d ops differentiated by TensorFlow.js itself (filter
   * gradients included; on wasm see allowLayersGradientOnWasm) — bit-identical forward
   * arithmetic, the reference the lean gradients are checked against.
   */
  gradients?: 'input-only' | 'autodiff';
}

export function compileKerasNetwork(files: LayersModelFiles, logitsLayer: string, options: CompileOptions = {}): Network {
  return compileTfjsNetwork(lowerKerasModel(files, logitsLayer), options);
}

export function compileTfjsNetwork(graph: LayerGraph, options: CompileOptions = {}): Network {
  const owned: { dispose(): void }[] = [];
  const steps = graph.ops.map((op) => ({ name: op.name, inputs: op.kind === 'add' ? op.inputs : [op.input], run: compileOp(op, owned, options.gradients ?? 'input-only') }));
  const remainingUses = new Map<string, number>();
  for (const step of steps) for (const name of step.inputs) remainingUses.set(name, (remainingUses.get(name) ?? 0) + 1);

  const run = (x: tf.Tensor4D, differentiable: boolean): tf.Tensor2D => {
    // Intermediate results are dropped as soon as their last consumer ran (gradients keep
    // what they need through the tape).
    const values = new Map<string, tf.Tensor>([[graph.input, x]]);
    const uses = new Map(remainingUses);
    for (const step of steps) {
      const args = step.inputs.map((name) => {
        const v = values.get(name);
        if (!v) throw new Error(`internal: ${name} not computed before ${step.name}`);
        return v;
      });
      values.set(step.name, step.run(args, differentiable));
      for (const name of step.inputs) {
        const left = (uses.get(name) ?? 0) - 1;
        uses.set(name, left);
        if (left === 0) values.delete(name);
      }
    }
    return values.get(graph.output) as tf.Tensor2D;
  };

  return {
    apply: (x) => run(x, true),
    forward: (x) => run(x, false),
    dispose() {
      owned.forEach((o) => o.dispose());
    },
  };
}

function compileOp(op: GraphOp, owned: { dispose(): void }[], gradients: NonNullable<CompileOptions['gradients']>): OpFn {
  const keep = <T extends tf.Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  switch (op.kind) {
    case 'conv': {
      const conv = createInputOnlyConv({
        filter: tf.tensor4d(op.kernel.data, op.kernel.shape as [number, number, number, number]),
        bias: tf.tensor1d(op.bias),
        strides: op.strides,
        padding: op.padding,
        relu: op.relu,
      });
      owned.push(conv);
      // `forward` is the plain fused conv2d: what `autodiff` differentiates with tf.grad itself.
      const ownBackward = gradients === 'input-only';
      return ([x], differentiable) => (differentiable && ownBackward ? conv.apply(x as tf.Tensor4D) : conv.forward(x as tf.Tensor4D));
    }
    case 'affine': {
      const scale = keep(tf.tensor1d(op.scale));
      const shift = keep(tf.tensor1d(op.shift));
      return ([x]) => tf.add(tf.mul(x, scale), shift);
    }
    case 'relu':
      return ([x]) => tf.relu(x);
    case 'pad': {
      const [t, b, l, r] = op.pads;
      return ([x]) => tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]);
    }
    case 'maxpool':
      return ([x]) => tf.maxPool(x as tf.Tensor4D, op.pool, op.strides, op.padding);
    case 'add':
      return (xs) => (xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs));
    case 'global-average-pool':
      return ([x]) => tf.mean(x, [1, 2]);
    case 'dense': {
      const kernel = keep(tf.tensor2d(op.kernel.data, op.kernel.shape as [number, number]));
      const bias = keep(tf.tensor1d(op.bias));
      return ([x]) => {
        const y = tf.add(tf.matMul(x as tf.Tensor2D, kernel), bias);
        return op.relu ? tf.relu(y) : y;
      };
    }
  }
}
