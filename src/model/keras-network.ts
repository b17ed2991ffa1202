import * as tf from '@tensorflow/tfjs-core';
import { createInputOnlyConv, cropSpatial } from './input-only-conv';
import { maxPoolBackward } from './max-pool-backward';
import { lowerKerasModel, opInputs, type GraphOp, type LayerGraph } from './layer-graph';
import { compileTrainedOp, createParameterVariables, type WeightGradients } from './tfjs-weight-gradients';
import type { Parameter } from './trainable';
import type { LayersModelFiles } from './weights';

/**
 * The lowered Keras graph (layer-graph.ts) as TensorFlow.js ops: one fused conv + bias +
 * ReLU per folded block, ending in logits. Its gradient is written out by hand: `trace`
 * runs the forward pass without TensorFlow.js's tape, keeping only what the backward pass
 * reads (ReLU outputs, max-pool input and output) and freeing everything else as soon as it
 * is consumed (memory is reused while still in cache); its `backward` walks the graph in
 * reverse, differentiating with respect to the input only (input-only-conv.ts). `apply`
 * wraps the same pair as one custom gradient for callers of tf.grad. Compiled with
 * `parameters`, the trained ops take those weights' new values when told to, and
 * `traceWeights` walks back to their gradient instead (tfjs-weight-gradients.ts).
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
  /**
   * Logits and the walk back to dL/dθ of the compiled-in `parameters` (no dL/dx, and no
   * work below the lowest trained op). Call inside tidy; `backward` at most once.
   */
  traceWeights(x: tf.Tensor4D): WeightTrace;
  /**
   * Takes the compiled-in parameters' current values (they change in place between calls):
   * call before a pass, outside tidy (it prepares tensors that outlive the call). Cheap
   * when they have not changed; a no-op without parameters.
   */
  readParameters(): void;
  /** The parameters' values as variables, in their order: what tf.variableGrads differentiates by. */
  readonly variables: readonly tf.Variable[];
  dispose(): void;
}

export interface Trace {
  logits: tf.Tensor2D;
  /** dL/dx from dL/dlogits. */
  backward(dLogits: tf.Tensor2D): tf.Tensor4D;
}

export interface WeightTrace {
  logits: tf.Tensor2D;
  /** dL/dθ from dL/dlogits, one per parameter, in their order and layout. */
  backward(dLogits: tf.Tensor2D): tf.Tensor[];
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
  /**
   * Weights training changes (trainable.ts), updated in place between calls: their ops use
   * the values of the last readParameters() (at first, those at compile time).
   */
  parameters?: readonly Parameter[];
}

/** One op's forward and backward pass. */
export interface CompiledOp {
  forward(inputs: tf.Tensor[]): tf.Tensor;
  /**
   * dL/d(each input) from dL/d(output). Of the forward's tensors it reads only those `keeps`
   * names (others may be disposed by then); of the rest, only their shapes.
   */
  backward(dy: tf.Tensor, forward: { inputs: tf.Tensor[]; output: tf.Tensor }): tf.Tensor[];
  keeps: { inputs: boolean; output: boolean };
  /** A trained op's: what its weights' gradient reads, and how it is computed. */
  weights?: {
    keeps: { inputs: boolean; output: boolean };
    /** dL/dkernel, dL/dbias, and dL/d(each input) only `withInputs` (else empty). */
    backward(dy: tf.Tensor, forward: { inputs: tf.Tensor[]; output: tf.Tensor }, withInputs: boolean): WeightGradients & { inputs: tf.Tensor[] };
  };
  /** Re-derives what the op prepared from its weights, after they changed (outside tidy). */
  reload?(): void;
  dispose?(): void;
}

export function compileKerasNetwork(files: LayersModelFiles, logitsLayer: string, options: CompileOptions = {}): Network {
  return compileTfjsNetwork(lowerKerasModel(files, logitsLayer), options);
}

export function compileTfjsNetwork(graph: LayerGraph, options: CompileOptions = {}): Network {
  const tapeArithmetic = options.tapeArithmetic ?? false;
  const trained = createParameterVariables(graph, options.parameters ?? []);
  const steps = graph.ops.map((op) => {
    const weights = trained.weightsOf(op);
    return { name: op.name, inputs: opInputs(op), op: weights ? compileTrainedOp(weights, tapeArithmetic) : compileOp(op, tapeArithmetic) };
  });
  type Step = (typeof steps)[number];
  const consumers = new Map<string, number>();
  for (const step of steps) for (const name of step.inputs) consumers.set(name, (consumers.get(name) ?? 0) + 1);
  const reads = backwardReads(steps);

  type Record = { step: Step; inputs: tf.Tensor[]; output: tf.Tensor };
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

  /**
   * Walks the records backwards from dL/dlogits, computing dL/dv for the values `wanted`
   * holds (a step none of whose inputs is wanted runs no backward pass) and handing each
   * trained op's weight gradients to `onWeights`, when given. Returns what is left: dL/dx
   * if it was wanted.
   */
  const walk = (records: Record[], dLogits: tf.Tensor, wanted: (name: string) => boolean, onWeights?: (op: string, g: WeightGradients) => void): Map<string, tf.Tensor> => {
    const grads = new Map<string, tf.Tensor>([[graph.output, dLogits]]);
    // A gradient tensor may sit under several names (an add passes dy to each input).
    const release = (t: tf.Tensor): void => {
      if (t !== dLogits && ![...grads.values()].includes(t)) t.dispose();
    };
    /** One step back: its weights' gradient if trained, then dL/d(its inputs) where wanted. */
    const stepBack = ({ step, inputs, output }: Record, dy: tf.Tensor): void => {
      const withInputs = step.inputs.some(wanted);
      let dxs: tf.Tensor[] = [];
      if (onWeights && step.op.weights) {
        const { kernel, bias, inputs: dInputs } = step.op.weights.backward(dy, { inputs, output }, withInputs);
        onWeights(step.name, { kernel, bias });
        dxs = dInputs;
      } else if (withInputs) {
        dxs = step.op.backward(dy, { inputs, output });
      }
      const unwanted: tf.Tensor[] = [];
      dxs.forEach((dx, k) => {
        const name = step.inputs[k];
        if (!wanted(name)) return void unwanted.push(dx);
        const earlier = grads.get(name);
        grads.set(name, earlier ? tf.add(earlier, dx) : dx);
        if (earlier) [earlier, dx].forEach(release);
      });
      [...unwanted, dy].forEach(release);
    };
    for (let i = records.length - 1; i >= 0; i--) {
      const record = records[i];
      const dy = grads.get(record.step.name);
      if (dy) {
        grads.delete(record.step.name);
        stepBack(record, dy);
      } // else not on a path to the logits, or below every trained op
      if (record.step.name !== graph.output) record.output.dispose(); // no later step (earlier in the walk) reads it
    }
    return grads;
  };

  /** dL/dx from dL/dlogits. */
  const inputBackward = (records: Record[], dLogits: tf.Tensor): tf.Tensor4D => {
    const dx = walk(records, dLogits, () => true).get(graph.input);
    if (!dx) throw new Error('internal: the logits do not depend on the input');
    return dx as tf.Tensor4D;
  };
  /** Logits, and the walk back from dL/dlogits to dL/dx (no tape: what it reads stays alive until then). */
  const trace = (x: tf.Tensor4D): Trace => {
    const { logits, records } = run(x, (name) => reads.input.has(name));
    return { logits, backward: (dLogits) => inputBackward(records, dLogits) };
  };

  /** Logits, and the walk back from dL/dlogits to dL/dθ, from the logits down to the lowest trained op. */
  const traceWeights = (x: tf.Tensor4D): WeightTrace => {
    const { logits, records } = run(x, (name) => reads.weights.has(name));
    return {
      logits,
      backward: (dLogits) => {
        const byOp = new Map<string, WeightGradients>();
        walk(records, dLogits, (name) => reads.aboveTrained.has(name), (op, g) => byOp.set(op, g)); // leaves nothing: dL/dx is not wanted
        return trained.gradients(byOp);
      },
    };
  };

  const apply =
    options.gradients === 'autodiff'
      ? (x: tf.Tensor4D) => run(x, () => true).logits // tf.grad tapes every op and keeps what it needs
      : (tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
          const [x, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
          const { logits, records } = run(x, (name) => reads.input.has(name));
          // customGrad runs this in a tidy: what the backward pass reads is handed over through
          // save() (which copies it on wasm: the engine calls trace() instead).
          const kept = [...new Set(records.flatMap((r) => [...r.inputs, r.output]).filter((t) => !t.isDisposed && t !== logits && t !== x))];
          save(kept);
          return {
            value: logits,
            gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
              const copies = new Map(kept.map((t, k) => [t, saved[k]]));
              const own = (t: tf.Tensor): tf.Tensor => copies.get(t) ?? t;
              return inputBackward(
                records.map((r) => ({ ...r, inputs: r.inputs.map(own), output: own(r.output) })),
                dy,
              );
            },
          };
        }) as (x: tf.Tensor4D) => tf.Tensor2D);

  return {
    apply,
    trace,
    traceWeights,
    forward: (x) => run(x, () => false).logits,
    readParameters() {
      const changed = trained.read();
      steps.forEach((s) => changed.has(s.name) && s.op.reload?.());
    },
    variables: trained.variables,
    dispose() {
      steps.forEach((s) => s.op.dispose?.());
      trained.dispose();
    },
  };
}

/**
 * The values each walk back reads, so that the forward pass frees every other one after its
 * last consumer. The input gradient: what every op's backward pass reads. The weight
 * gradient needs dL/dv only for the values computed from a trained op's output (those outputs
 * included: `aboveTrained`), so nothing below the lowest trained op is differentiated or kept:
 * what the backward passes of the ops above read, and what the weight gradients read.
 */
function backwardReads(steps: { name: string; inputs: string[]; op: CompiledOp }[]): { input: Set<string>; weights: Set<string>; aboveTrained: Set<string> } {
  const add = (into: Set<string>, step: (typeof steps)[number], keeps: CompiledOp['keeps']): void => {
    if (keeps.output) into.add(step.name);
    if (keeps.inputs) step.inputs.forEach((name) => into.add(name));
  };
  const [input, weights, aboveTrained] = [new Set<string>(), new Set<string>(), new Set<string>()];
  for (const step of steps) {
    add(input, step, step.op.keeps);
    const throughInputs = step.inputs.some((name) => aboveTrained.has(name));
    if (throughInputs) add(weights, step, step.op.keeps);
    if (step.op.weights) add(weights, step, step.op.weights.keeps);
    if (throughInputs || step.op.weights) aboveTrained.add(step.name);
  }
  return { input, weights, aboveTrained };
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
