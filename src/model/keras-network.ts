import * as tf from '@tensorflow/tfjs-core';
import { createInputOnlyConv, cropSpatial } from './input-only-conv';
import { maxPoolBackward } from './max-pool-backward';
import { lowerKerasModel, type GraphOp, type LayerGraph } from './layer-graph';
import type { LayersModelFiles } from './weights';

/**
 * The lowered Keras graph (layer-graph.ts) as TensorFlow.js ops: one fused conv + bias +
 * ReLU per folded block, ending in logits. Its gradient is written out by hand: `trace`
 * runs the forward pass without TensorFlow.js's tape, keeping only what the backward pass
 * reads (ReLU outputs, max-pool input and output) and freeing everything else as soon as it
 * is consumed (memory is reused while still in cache); its `backward` walks the graph in
 * reverse, differentiating with respect to the input only (input-only-conv.ts). `apply`
 * wraps the same pair as one custom gradient for callers of tf.grad.
 */
export interface Network {
  /** [n, h, w, c] input of the first layer → [n, classes] logits. Differentiable (inside tf.grad). */
  apply(x: tf.Tensor4D): tf.Tensor2D;
  /**
   * Logits and their backward pass, without TensorFlow.js's tape (the engine's gradient
   * step). Call inside tidy; `backward` at most once.
   */
  trace(x: tf.Tensor4D): Trace;
  /** The same logits without gradient bookkeeping (classification, clean predictions). */
  forward(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

export interface Trace {
  logits: tf.Tensor2D;
  /** dL/dx from dL/dlogits. */
  backward(dLogits: tf.Tensor2D): tf.Tensor4D;
}

export interface CompileOptions {
  /**
   * `input-only` (the service): the hand-written backward pass above.
   * `autodiff`: the same fused ops differentiated by TensorFlow.js itself (filter gradients
   * included; on wasm see allowLayersGradientOnWasm) — bit-identical forward arithmetic,
   * the reference the lean gradients are checked against.
   */
  gradients?: 'input-only' | 'autodiff';
  /**
   * true: the forward ops TensorFlow.js runs under a gradient tape, where tf.fused.conv2d
   * splits a convolution with a ReLU into conv2d + bias and relu (different rounding). A check
   * of the backward pass against tf.grad then compares like with like. Default false: every
   * convolution one fused kernel, as the service runs it.
   */
  tapeArithmetic?: boolean;
}

/** One op's forward and backward pass. */
interface CompiledOp {
  forward(inputs: tf.Tensor[]): tf.Tensor;
  /**
   * dL/d(each input) from dL/d(output). Of the forward's tensors it reads only those `keeps`
   * names (others may be disposed by then); of the rest, only their shapes.
   */
  backward(dy: tf.Tensor, forward: { inputs: tf.Tensor[]; output: tf.Tensor }): tf.Tensor[];
  keeps: { inputs: boolean; output: boolean };
  dispose?(): void;
}

export function compileKerasNetwork(files: LayersModelFiles, logitsLayer: string, options: CompileOptions = {}): Network {
  return compileTfjsNetwork(lowerKerasModel(files, logitsLayer), options);
}

export function compileTfjsNetwork(graph: LayerGraph, options: CompileOptions = {}): Network {
  const steps = graph.ops.map((op) => ({ name: op.name, inputs: op.kind === 'add' ? op.inputs : [op.input], op: compileOp(op, options.tapeArithmetic ?? false) }));
  const consumers = new Map<string, number>();
  for (const step of steps) for (const name of step.inputs) consumers.set(name, (consumers.get(name) ?? 0) + 1);
  // Values the backward pass reads; every other intermediate is freed after its last consumer.
  const readByBackward = new Set<string>();
  for (const step of steps) {
    if (step.op.keeps.output) readByBackward.add(step.name);
    if (step.op.keeps.inputs) step.inputs.forEach((name) => readByBackward.add(name));
  }

  type Record = { step: (typeof steps)[number]; inputs: tf.Tensor[]; output: tf.Tensor };
  /** Runs the graph; `keep(name)` says which intermediates must outlive their last consumer. */
  const run = (x: tf.Tensor4D, keep: (name: string) => boolean): { logits: tf.Tensor2D; records: Record[] } => {
    const values = new Map<string, tf.Tensor>([[graph.input, x]]);
    const uses = new Map(consumers);
    const records: Record[] = [];
    for (const step of steps) {
      const inputs = step.inputs.map((name) => {
        const v = values.get(name);
        if (!v) throw new Error(`internal: ${name} not computed before ${step.name}`);
        return v;
      });
      const output = step.op.forward(inputs);
      values.set(step.name, output);
      records.push({ step, inputs, output });
      for (const name of step.inputs) {
        const left = (uses.get(name) ?? 0) - 1;
        uses.set(name, left);
        if (left > 0) continue;
        if (name !== graph.input && !keep(name)) values.get(name)?.dispose();
        values.delete(name);
      }
    }
    return { logits: values.get(graph.output) as tf.Tensor2D, records };
  };

  /** dL/dx from dL/dlogits, walking the records backwards. */
  const backward = (records: Record[], dLogits: tf.Tensor): tf.Tensor4D => {
    const grads = new Map<string, tf.Tensor>([[graph.output, dLogits]]);
    // A gradient tensor may sit under several names (an add passes dy to each input).
    const release = (t: tf.Tensor): void => {
      if (t !== dLogits && ![...grads.values()].includes(t)) t.dispose();
    };
    for (let i = records.length - 1; i >= 0; i--) {
      const { step, inputs, output } = records[i];
      const dy = grads.get(step.name);
      if (!dy) continue; // not on a path to the logits
      grads.delete(step.name);
      const dxs = step.op.backward(dy, { inputs, output });
      step.inputs.forEach((name, k) => {
        const earlier = grads.get(name);
        grads.set(name, earlier ? tf.add(earlier, dxs[k]) : dxs[k]);
        if (earlier) [earlier, dxs[k]].forEach(release);
      });
      release(dy);
      if (step.name !== graph.output) output.dispose(); // no later step (earlier in the walk) reads it
    }
    const dx = grads.get(graph.input);
    if (!dx) throw new Error('internal: the logits do not depend on the input');
    return dx as tf.Tensor4D;
  };

  /** Logits, and the walk back from dL/dlogits to dL/dx (no tape: what it reads stays alive until then). */
  const trace = (x: tf.Tensor4D): Trace => {
    const { logits, records } = run(x, (name) => readByBackward.has(name));
    return { logits, backward: (dLogits) => backward(records, dLogits) };
  };

  const apply =
    options.gradients === 'autodiff'
      ? (x: tf.Tensor4D) => run(x, () => true).logits // tf.grad tapes every op and keeps what it needs
      : (tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
          const [x, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
          const { logits, records } = run(x, (name) => readByBackward.has(name));
          // customGrad runs this in a tidy: what the backward pass reads is handed over through
          // save() (which copies it on wasm: the engine calls trace() instead).
          const kept = [...new Set(records.flatMap((r) => [...r.inputs, r.output]).filter((t) => !t.isDisposed && t !== logits && t !== x))];
          save(kept);
          return {
            value: logits,
            gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
              const copies = new Map(kept.map((t, k) => [t, saved[k]]));
              const own = (t: tf.Tensor): tf.Tensor => copies.get(t) ?? t;
              return backward(
                records.map((r) => ({ ...r, inputs: r.inputs.map(own), output: own(r.output) })),
                dy,
              );
            },
          };
        }) as (x: tf.Tensor4D) => tf.Tensor2D);

  return {
    apply,
    trace,
    forward: (x) => run(x, () => false).logits,
    dispose() {
      steps.forEach((s) => s.op.dispose?.());
    },
  };
}

/** dy through a ReLU, from its output: zero where the ReLU was off. */
const stepMask = (dy: tf.Tensor, output: tf.Tensor): tf.Tensor => tf.tidy(() => tf.mul(dy, tf.step(output)));

function compileOp(op: GraphOp, tapeArithmetic: boolean): CompiledOp {
  const none = { inputs: false, output: false };
  switch (op.kind) {
    case 'conv': {
      const conv = createInputOnlyConv({
        filter: tf.tensor4d(op.kernel.data, op.kernel.shape as [number, number, number, number]),
        bias: tf.tensor1d(op.bias),
        strides: op.strides,
        padding: op.padding,
        relu: op.relu,
        splitRelu: tapeArithmetic,
      });
      return {
        forward: ([x]) => conv.forward(x as tf.Tensor4D),
        backward: (dy, { inputs: [x], output }) => [tf.tidy(() => conv.backward((op.relu ? stepMask(dy, output) : dy) as tf.Tensor4D, x.shape))],
        keeps: { inputs: false, output: op.relu },
        dispose: () => conv.dispose(),
      };
    }
    case 'affine': {
      const scale = tf.tensor1d(op.scale);
      const shift = tf.tensor1d(op.shift);
      return {
        forward: ([x]) => tf.tidy(() => tf.add(tf.mul(x, scale), shift)),
        backward: (dy) => [tf.mul(dy, scale)],
        keeps: none,
        dispose: () => tf.dispose([scale, shift]),
      };
    }
    case 'relu':
      return { forward: ([x]) => tf.relu(x), backward: (dy, { output }) => [stepMask(dy, output)], keeps: { inputs: false, output: true } };
    case 'pad': {
      const [t, b, l, r] = op.pads;
      return {
        forward: ([x]) => tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]),
        backward: (dy, { inputs: [x] }) => {
          const [, h, w] = (x as tf.Tensor4D).shape;
          return [cropSpatial(dy as tf.Tensor4D, t, l, h, w)];
        },
        keeps: none,
      };
    }
    case 'maxpool':
      return {
        forward: ([x]) => tf.maxPool(x as tf.Tensor4D, op.pool, op.strides, op.padding),
        backward: (dy, { inputs: [input], output }) => [maxPoolBackward(dy as tf.Tensor4D, input as tf.Tensor4D, output as tf.Tensor4D, op)],
        keeps: { inputs: true, output: true },
      };
    case 'add':
      return { forward: (xs) => (xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs)), backward: (dy, { inputs }) => inputs.map(() => dy), keeps: none };
    case 'global-average-pool':
      return {
        forward: ([x]) => tf.mean(x, [1, 2]),
        backward: (dy, { inputs: [x] }) => {
          const [n, h, w, c] = x.shape;
          return [tf.tidy(() => tf.broadcastTo(tf.reshape(tf.div(dy, h * w), [n, 1, 1, c]), [n, h, w, c]))];
        },
        keeps: none,
      };
    case 'dense': {
      const kernel = tf.tensor2d(op.kernel.data, op.kernel.shape as [number, number]);
      const bias = tf.tensor1d(op.bias);
      return {
        forward: ([x]) =>
          tf.tidy(() => {
            const y = tf.add(tf.matMul(x as tf.Tensor2D, kernel), bias);
            return op.relu ? tf.relu(y) : y;
          }),
        backward: (dy, { output }) => [tf.tidy(() => tf.matMul((op.relu ? stepMask(dy, output) : dy) as tf.Tensor2D, kernel, false, true))],
        keeps: { inputs: false, output: op.relu },
        dispose: () => tf.dispose([kernel, bias]),
      };
    }
  }
}
