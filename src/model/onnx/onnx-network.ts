import { opInputs, type ConvOp, type GraphOp, type LayerGraph, type MaxPoolOp } from '../layer-graph';
import type { ModelManifest } from '../manifest';
import type { Parameter } from '../trainable';
import { OnnxGraphBuilder, type GraphIO } from './onnx-builder';
import { constantWeights, inputWeights, type WeightSource } from './onnx-weights';
import { foldZeroPadding } from './pad-folding';

/**
 * The lowered Keras graph (layer-graph.ts) as two ONNX models, NCHW inside:
 * - forward: pixels [n, h, w, 3] RGB in [0, 1] → logits [n, classes], the model's
 *   preprocessing included;
 * - gradient: pixels and per-sample loss coefficients a, b [n, classes] → logits, the loss
 *   L = Σ a·log softmax(z) + Σ b·z [n], and dL/dpixels [n, h, w, 3].
 * ONNX Runtime has no automatic differentiation, so the gradient model carries the
 * backward pass written out node by node, with respect to the input only.
 * For training (buildTrainingModels) the trained layers' weights are inputs of all three
 * models, and a third model gives the loss's gradient with respect to them instead.
 */
export const IO = { pixels: 'pixels', a: 'a', b: 'b', logits: 'logits', loss: 'loss', gradient: 'gradient' } as const;

export interface OnnxModels {
  forward: Uint8Array;
  gradient: Uint8Array;
}

type Preprocessing = ModelManifest['preprocessing'];

export function buildOnnxModels(lowered: LayerGraph, pre: Preprocessing): OnnxModels {
  const graph = foldZeroPadding(lowered);
  return { forward: buildForwardModel(graph, pre, constantWeights), gradient: buildGradientModel(graph, pre, constantWeights) };
}

export interface OnnxTrainingModels extends OnnxModels {
  /** pixels, a, b and the parameters → logits, loss, and d(Σ L)/dθ as `gradient:<parameter>`. */
  weightGradient: Uint8Array;
}

/** The value name of a parameter's gradient output. */
export const gradientOutput = (parameter: Parameter): string => `gradient:${parameter.name}`;

/** The forward and input-gradient models over changing weights, and the weight-gradient model. */
export function buildTrainingModels(lowered: LayerGraph, pre: Preprocessing, parameters: readonly Parameter[]): OnnxTrainingModels {
  const graph = foldZeroPadding(lowered);
  const weights = (g: OnnxGraphBuilder) => inputWeights(g, parameters);
  return {
    forward: buildForwardModel(graph, pre, weights),
    gradient: buildGradientModel(graph, pre, weights),
    weightGradient: buildWeightGradientModel(graph, pre, parameters),
  };
}

/** Makes the weight source of a model being built; `inputs` are extra graph inputs it reads. */
type WeightsFor = (g: OnnxGraphBuilder) => WeightSource | { source: WeightSource; inputs: GraphIO[] };
const sourceOf = (made: ReturnType<WeightsFor>): { source: WeightSource; inputs: GraphIO[] } => ('source' in made ? made : { source: made, inputs: [] });

function inputShape(graph: LayerGraph): number[] {
  const shape = graph.shapes.get(graph.input);
  if (!shape || shape.length !== 3 || shape[2] !== 3) throw new Error('the ONNX engine needs an [h, w, 3] image input');
  return shape;
}

function numClasses(graph: LayerGraph): number {
  return (graph.shapes.get(graph.output) as number[])[0];
}

function buildForwardModel(graph: LayerGraph, pre: Preprocessing, weightsFor: WeightsFor): Uint8Array {
  const g = new OnnxGraphBuilder();
  const { source, inputs } = sourceOf(weightsFor(g));
  const { logits } = emitForward(g, graph, pre, source, false);
  const [h, w] = inputShape(graph);
  return g.toBytes('advprobe-forward', [{ name: IO.pixels, shape: ['batch', h, w, 3] }, ...inputs], [{ name: IO.logits, shape: ['batch', numClasses(graph)], value: logits }]);
}

function lossInputs(graph: LayerGraph): GraphIO[] {
  const [h, w] = inputShape(graph);
  const k = numClasses(graph);
  return [
    { name: IO.pixels, shape: ['batch', h, w, 3] },
    { name: IO.a, shape: ['batch', k] },
    { name: IO.b, shape: ['batch', k] },
  ];
}

function buildGradientModel(graph: LayerGraph, pre: Preprocessing, weightsFor: WeightsFor): Uint8Array {
  const g = new OnnxGraphBuilder();
  const { source, inputs } = sourceOf(weightsFor(g));
  const forward = emitForward(g, graph, pre, source, true);
  const { loss, dLogits } = emitLoss(g, forward.logits);
  const { dPixels } = emitBackward(g, graph, pre, forward, source, dLogits, 'input');
  const [h, w] = inputShape(graph);
  const k = numClasses(graph);
  return g.toBytes(
    'advprobe-gradient',
    [...lossInputs(graph), ...inputs],
    [
      { name: IO.logits, shape: ['batch', k], value: forward.logits },
      { name: IO.loss, shape: ['batch'], value: loss },
      { name: IO.gradient, shape: ['batch', h, w, 3], value: dPixels as string },
    ],
  );
}

function buildWeightGradientModel(graph: LayerGraph, pre: Preprocessing, parameters: readonly Parameter[]): Uint8Array {
  const g = new OnnxGraphBuilder();
  const { source, inputs } = inputWeights(g, parameters);
  const forward = emitForward(g, graph, pre, source, true);
  const { loss, dLogits } = emitLoss(g, forward.logits);
  const { dWeights } = emitBackward(g, graph, pre, forward, source, dLogits, 'weights');
  const k = numClasses(graph);
  const gradients = parameters.map((p) => {
    const value = dWeights.get(p.name);
    if (!value) throw new Error(`internal: no gradient for ${p.name}`);
    return { name: gradientOutput(p), shape: p.shape, value };
  });
  return g.toBytes(
    'advprobe-weight-gradient',
    [...lossInputs(graph), ...inputs],
    [{ name: IO.logits, shape: ['batch', k], value: forward.logits }, { name: IO.loss, shape: ['batch'], value: loss }, ...gradients],
  );
}

interface ForwardValues {
  logits: string;
  /** ONNX value of each lowered-graph value (the graph input: the preprocessed NCHW image). */
  values: Map<string, string>;
  /** Arg-max indices of each max-pool, for its backward pass. */
  poolIndices: Map<string, string>;
}

/** Channel order the weights want, as indices into RGB. */
function channelPermutation(pre: Preprocessing): number[] {
  return pre.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
}

function emitForward(g: OnnxGraphBuilder, graph: LayerGraph, pre: Preprocessing, weights: WeightSource, withPoolIndices: boolean): ForwardValues {
  const nchw = g.op('Transpose', [IO.pixels], { perm: [0, 3, 1, 2] });
  const ordered = g.op('Gather', [nchw, g.ints(channelPermutation(pre))], { axis: 1 });
  const scaled = g.op('Mul', [ordered, g.scalar(pre.scale)]);
  const normalised = g.op('Sub', [scaled, g.floats('mean', Float32Array.from(pre.mean), [1, 3, 1, 1])]);
  const values = new Map<string, string>([[graph.input, normalised]]);
  const poolIndices = new Map<string, string>();
  const at = (name: string): string => {
    const v = values.get(name);
    if (!v) throw new Error(`internal: ${name} not computed`);
    return v;
  };
  for (const op of graph.ops) {
    if (op.kind === 'maxpool' && withPoolIndices) {
      const [y, indices] = g.opMulti('MaxPool', [at(op.input)], 2, poolAttributes(op), op.name);
      values.set(op.name, y);
      poolIndices.set(op.name, indices);
      continue;
    }
    values.set(op.name, emitForwardOp(g, op, at, weights));
  }
  return { logits: at(graph.output), values, poolIndices };
}

function emitForwardOp(g: OnnxGraphBuilder, op: GraphOp, at: (name: string) => string, weights: WeightSource): string {
  const reluIf = (relu: boolean, x: string): string => (relu ? g.op('Relu', [x], {}, `${op.name}_relu`) : x);
  switch (op.kind) {
    case 'conv': {
      const [kh, kw] = op.kernel.shape;
      const y = g.op('Conv', [at(op.input), weights.kernel(op), weights.bias(op)], { kernel_shape: [kh, kw], strides: op.strides, pads: onnxPads(op.pads) }, op.name);
      return reluIf(op.relu, y);
    }
    case 'affine': {
      const c = op.scale.length;
      const scaled = g.op('Mul', [at(op.input), g.floats(`${op.name}_scale`, op.scale, [1, c, 1, 1])], {}, op.name);
      return g.op('Add', [scaled, g.floats(`${op.name}_shift`, op.shift, [1, c, 1, 1])], {}, op.name);
    }
    case 'relu':
      return g.op('Relu', [at(op.input)], {}, op.name);
    case 'pad': {
      const [t, b, l, r] = op.pads;
      return g.op('Pad', [at(op.input), g.ints([0, 0, t, l, 0, 0, b, r])], { mode: 'constant' }, op.name);
    }
    case 'maxpool':
      return g.op('MaxPool', [at(op.input)], poolAttributes(op), op.name);
    case 'add':
      return g.op(op.inputs.length === 2 ? 'Add' : 'Sum', op.inputs.map(at), {}, op.name);
    case 'global-average-pool': {
      const pooled = g.op('GlobalAveragePool', [at(op.input)], {}, op.name);
      return g.op('Flatten', [pooled], { axis: 1 }, op.name);
    }
    case 'dense': {
      const y = g.op('Gemm', [at(op.input), weights.kernel(op), weights.bias(op)], {}, op.name);
      return reluIf(op.relu, y);
    }
  }
}

/** L = Σ a·log softmax(z) + Σ b·z per sample, and dL/dz = a − (Σa)·softmax(z) + b. */
function emitLoss(g: OnnxGraphBuilder, logits: string): { loss: string; dLogits: string } {
  const logProbabilities = g.op('LogSoftmax', [logits], { axis: 1 });
  const terms = g.op('Add', [g.op('Mul', [IO.a, logProbabilities]), g.op('Mul', [IO.b, logits])]);
  const loss = g.op('ReduceSum', [terms, g.ints([1])], { keepdims: 0 }, 'loss');
  const sumA = g.op('ReduceSum', [IO.a, g.ints([1])], { keepdims: 1 });
  const probabilities = g.op('Exp', [logProbabilities]);
  const dLogits = g.op('Add', [g.op('Sub', [IO.a, g.op('Mul', [sumA, probabilities])]), IO.b], {}, 'dlogits');
  return { loss, dLogits };
}

/**
 * Walks the ops backwards, summing the gradient of every value over its consumers.
 * `input`: down to dL/dpixels. `weights`: dL/dθ of every trained op, and only the values
 * between the logits and the lowest trained op get a gradient (nothing below is needed).
 */
function emitBackward(
  g: OnnxGraphBuilder,
  graph: LayerGraph,
  pre: Preprocessing,
  forward: ForwardValues,
  weights: WeightSource,
  dLogits: string,
  wrt: 'input' | 'weights',
): { dPixels?: string; dWeights: Map<string, string> } {
  const contributions = new Map<string, string[]>([[graph.output, [dLogits]]]);
  const needed = wrt === 'input' ? () => true : dependsOnTrainedOp(graph, weights);
  const give = (name: string, grad: () => string): void => {
    if (needed(name)) contributions.set(name, [...(contributions.get(name) ?? []), grad()]);
  };
  // Strided convolutions' backward passes wait here until their input's gradient is
  // summed, so that those reading the same input with the same geometry (a ResNet stage's
  // first block: the main branch and the shortcut) share one ConvTranspose.
  const strided = new Map<string, StridedGradient[]>();
  const total = (name: string): string | undefined => {
    const parts = [...(contributions.get(name) ?? [])];
    const waiting = strided.get(name);
    if (waiting) parts.push(...stridedConvBackward(g, waiting, shapeOf(name), weights, blocked(name)));
    if (parts.length === 0) return undefined;
    return parts.length === 1 ? parts[0] : g.op('Sum', parts, {}, `d_${name}`);
  };
  const dWeights = new Map<string, string>();
  const valueOf = (name: string): string => forward.values.get(name) as string;
  const shapeOf = (name: string): number[] => graph.shapes.get(name) as number[];
  const blocked = blockedValues(graph, weights);
  /** x [n, c, h, w], the gradient of `value`, times a per-channel (or one) scale. */
  const scaleChannels = (x: string, value: string, scale: number | Float32Array, hint: string): string => {
    const channels = shapeOf(value)[2];
    if (blocked(value)) return channelScale(g, x, channels, scale, hint);
    return g.op('Mul', [x, typeof scale === 'number' ? g.scalar(scale) : g.floats(`${hint}_scale`, scale, [1, channels, 1, 1])], {}, hint);
  };
  /** dy through the ReLU whose output is `value`: dy where it is > 0, else 0. */
  const throughRelu = (dy: string, value: string): string => {
    // ReLU's 0/1 mask as min(y·2¹²⁶, 1): y ≥ 0, every y at or above float32's smallest normal
    // (2⁻¹²⁶) maps to exactly 1 and 0 to 0 (subnormal activations do not arise). As Mul and
    // Clip on NCHW it made ONNX Runtime reorder every mask and every backward convolution's
    // output: 141 reorders, 72 ms of a 913 ms step at batch 8 (npm run profile:onnx). Greater
    // + Where cost 90 ms there, Sign more still.
    const y = valueOf(value);
    const scaled = shapeOf(value).length === 3 ? scaleChannels(y, value, 2 ** 126, 'relu_mask') : g.op('Mul', [y, g.scalar(2 ** 126)]);
    return g.op('Mul', [dy, g.op('Clip', [scaled, g.scalar(0), g.scalar(1)], {}, 'relu_mask')], {}, 'relu_grad');
  };

  for (const op of [...graph.ops].reverse()) {
    const dy = total(op.name);
    if (!dy) continue;
    switch (op.kind) {
      case 'conv': {
        const dz = op.relu ? throughRelu(dy, op.name) : dy;
        if (wrt === 'weights' && weights.trains(op)) {
          dWeights.set(`${op.name}/kernel`, convKernelGradient(g, op, dz, valueOf(op.input), shapeOf(op.input)));
          dWeights.set(`${op.name}/bias`, g.op('ReduceSum', [dz, g.ints([0, 2, 3])], { keepdims: 0 }, `d_${op.name}_bias`));
        }
        if (op.strides.every((stride) => stride === 1)) give(op.input, () => convBackward(g, op, dz, weights));
        else if (needed(op.input)) strided.set(op.input, [...(strided.get(op.input) ?? []), { op, dz }]);
        break;
      }
      case 'affine':
        give(op.input, () => scaleChannels(dy, op.input, op.scale, `d_${op.name}`));
        break;
      case 'relu':
        give(op.input, () => throughRelu(dy, op.name));
        break;
      case 'pad': {
        const [h, w] = shapeOf(op.input);
        const [t, , l] = op.pads;
        give(op.input, () => g.op('Slice', [dy, g.ints([t, l]), g.ints([t + h, l + w]), g.ints([2, 3])], {}, `d_${op.name}`));
        break;
      }
      case 'maxpool':
        give(op.input, () => maxPoolBackward(g, op, dy, valueOf(op.input), forward.poolIndices.get(op.name) as string));
        break;
      case 'add':
        for (const input of op.inputs) give(input, () => dy);
        break;
      case 'global-average-pool': {
        const [h, w, c] = shapeOf(op.input);
        const spread = (x: string) => g.op('Expand', [g.op('Unsqueeze', [x, g.ints([2, 3])]), g.ints([1, c, h, w])], {}, `d_${op.name}`);
        // Blocked: scaled after the spread, by the channelScale that puts it in that layout;
        // otherwise before it, on the [n, c] gradient.
        give(op.input, () =>
          blocked(op.input) ? channelScale(g, spread(dy), c, 1 / (h * w), `d_${op.name}`) : spread(g.op('Mul', [dy, g.scalar(1 / (h * w))])),
        );
        break;
      }
      case 'dense': {
        const dz = op.relu ? throughRelu(dy, op.name) : dy;
        if (wrt === 'weights' && weights.trains(op)) {
          dWeights.set(`${op.name}/kernel`, g.op('Gemm', [valueOf(op.input), dz], { transA: 1 }, `d_${op.name}_kernel`));
          dWeights.set(`${op.name}/bias`, g.op('ReduceSum', [dz, g.ints([0])], { keepdims: 0 }, `d_${op.name}_bias`));
        }
        give(op.input, () => g.op('Gemm', [dz, weights.kernel(op)], { transB: 1 }, `d_${op.name}`));
        break;
      }
    }
  }
  if (wrt === 'weights') return { dWeights };
  const dNormalised = total(graph.input);
  if (!dNormalised) throw new Error('internal: the input received no gradient');
  // Back through the preprocessing: × scale, channels back to RGB, NCHW → NHWC.
  const inverse = channelPermutation(pre).map((_, rgb, perm) => perm.indexOf(rgb));
  const scaled = g.op('Mul', [dNormalised, g.scalar(pre.scale)]);
  const rgb = g.op('Gather', [scaled, g.ints(inverse)], { axis: 1 });
  return { dPixels: g.op('Transpose', [rgb], { perm: [0, 2, 3, 1] }), dWeights };
}

/**
 * x [n, c, h, w] times a per-channel (or one) scale, as a depthwise 1×1 convolution rather
 * than a broadcast Mul: ONNX Runtime runs that convolution in its blocked NCHWc layout, so
 * it, the Muls and Sums it feeds and the backward convolutions around them stay in that
 * layout instead of reordering to NCHW and back around every elementwise op.
 */
function channelScale(g: OnnxGraphBuilder, x: string, channels: number, scale: number | Float32Array, hint: string): string {
  const weights = typeof scale === 'number' ? g.filled(scale, [channels, 1, 1, 1]) : g.floats(`${hint}_scale`, scale, [channels, 1, 1, 1]);
  return g.op('Conv', [x, weights], { group: channels, kernel_shape: [1, 1] }, hint);
}

/**
 * Values ONNX Runtime's NCHWc transformer will hold in its blocked layout in the forward
 * pass (a guess after its rules; a wrong one costs reorders, never correctness): outputs of
 * convolutions with constant weights whose channels fill its 8- or 16-float blocks, and
 * ReLUs and sums of such values. Their gradients are kept in that layout too.
 */
function blockedValues(graph: LayerGraph, weights: WeightSource): (value: string) => boolean {
  const fills = (channels: number) => channels % 16 === 0;
  const blocked = new Set<string>();
  for (const op of graph.ops) {
    const inputs = opInputs(op);
    const yes =
      op.kind === 'conv'
        ? !weights.trains(op) && fills(op.kernel.shape[3]) && (op.kernel.shape[2] < 8 || fills(op.kernel.shape[2]))
        : (op.kind === 'relu' || op.kind === 'add') && inputs.every((name) => blocked.has(name));
    if (yes) blocked.add(op.name);
  }
  return (value) => blocked.has(value);
}

/** Values whose gradient a weight gradient needs: the outputs of trained ops and everything computed from them. */
function dependsOnTrainedOp(graph: LayerGraph, weights: WeightSource): (value: string) => boolean {
  const depends = new Set<string>();
  for (const op of graph.ops) {
    const inputs = opInputs(op);
    const trained = (op.kind === 'conv' || op.kind === 'dense') && weights.trains(op);
    if (trained || inputs.some((name) => depends.has(name))) depends.add(op.name);
  }
  return (value) => depends.has(value);
}

/** dL/dx of a stride-1 convolution: a convolution of dy with the flipped, channel-swapped kernel. */
function convBackward(g: OnnxGraphBuilder, op: ConvOp, dy: string, weights: WeightSource): string {
  const [kh, kw] = op.kernel.shape;
  const [t, b, l, r] = op.pads;
  return g.op('Conv', [dy, weights.backwardKernel(op)], { kernel_shape: [kh, kw], pads: [kh - 1 - t, kw - 1 - l, kh - 1 - b, kw - 1 - r] }, `d_${op.name}`);
}

interface StridedGradient {
  op: ConvOp;
  /** dL/d(the convolution's output), ReLU included. */
  dz: string;
}

/**
 * dL/dx of strided convolutions reading the same x [h, w]: ConvTranspose with the forward
 * kernel, which is exactly the adjoint; output_padding restores rows the stride never read.
 * Convolutions of the same geometry share one ConvTranspose over their gradients and
 * kernels concatenated along the output channels (one spread of the result instead of
 * two, and for ResNet50's stage entries one reorder back instead of two). Dilating dy and
 * convolving, or a 1×1 convolution at low resolution then spreading, were measured slower
 * (a batch-1 ResNet50 step took 131–147 ms against 109–112 ms with ConvTranspose).
 */
function stridedConvBackward(g: OnnxGraphBuilder, gradients: StridedGradient[], [h, w]: number[], weights: WeightSource, blockedInput: boolean): string[] {
  const geometry = ({ op }: StridedGradient) => JSON.stringify([op.kernel.shape.slice(0, 3), op.strides, op.pads]);
  const groups = new Map<string, StridedGradient[]>();
  for (const gradient of gradients) groups.set(geometry(gradient), [...(groups.get(geometry(gradient)) ?? []), gradient]);
  return [...groups.values()].map((group) => {
    const { op } = group[0];
    const [kh, kw, channels] = op.kernel.shape;
    const [t, b, l, r] = op.pads;
    const [sh, sw] = op.strides;
    const [outH, outW] = [Math.floor((h + t + b - kh) / sh) + 1, Math.floor((w + l + r - kw) / sw) + 1];
    const outputPadding = [h - ((outH - 1) * sh + kh - t - b), w - ((outW - 1) * sw + kw - l - r)];
    const dy = group.length === 1 ? group[0].dz : g.op('Concat', group.map((s) => s.dz), { axis: 1 });
    const kernel = group.length === 1 ? weights.kernel(op) : g.op('Concat', group.map((s) => weights.kernel(s.op)), { axis: 0 });
    const name = `d_${group.map((s) => s.op.name).join('+')}`;
    const dx = g.op('ConvTranspose', [dy, kernel], { kernel_shape: [kh, kw], strides: op.strides, pads: onnxPads(op.pads), output_padding: outputPadding }, name);
    // ConvTranspose has no blocked kernel: a ×1 channelScale brings its output (and the
    // ReLU masks and sums downstream of it) back into the blocked layout.
    return blockedInput ? channelScale(g, dx, channels, 1, name) : dx;
  });
}

/**
 * dL/dkernel of a convolution: for each kernel offset (i, j), Σ over the batch and the
 * output positions p of x_pad[n, c, s·p + (i, j)] · dz[n, o, p] — one batched MatMul of the
 * input sampled at that offset ([n, in, oh·ow]) with dz ([n, oh·ow, out]), summed over n.
 * (The same sum written as one convolution, x with batch and channel axes swapped
 * correlated with dz dilated by the stride, gives ONNX Runtime an output of only kh×kw per
 * input channel: matrix-vector products, 4.9 s of a ResNet50 step at batch 8 with every
 * layer trained.) Stacked in the parameters' layout [kh, kw, in, out].
 */
function convKernelGradient(g: OnnxGraphBuilder, op: ConvOp, dz: string, x: string, [h, w, cin]: number[]): string {
  const [kh, kw, , cout] = op.kernel.shape;
  const [t, b, l, r] = op.pads;
  const [sh, sw] = op.strides;
  const [oh, ow] = [Math.floor((h + t + b - kh) / sh) + 1, Math.floor((w + l + r - kw) / sw) + 1];
  const padded = t || b || l || r ? g.op('Pad', [x, g.ints([0, 0, t, l, 0, 0, b, r])], { mode: 'constant' }, `${op.name}_x_pad`) : x;
  const dzRows = g.op('Transpose', [g.op('Reshape', [dz, g.ints([0, cout, oh * ow])])], { perm: [0, 2, 1] }, `${op.name}_dz_rows`);
  const offsets: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const whole = i === 0 && j === 0 && sh === 1 && sw === 1 && oh === h + t + b && ow === w + l + r;
      const sampled = whole ? padded : g.op('Slice', [padded, g.ints([i, j]), g.ints([i + sh * (oh - 1) + 1, j + sw * (ow - 1) + 1]), g.ints([2, 3]), g.ints([sh, sw])]);
      const product = g.op('MatMul', [g.op('Reshape', [sampled, g.ints([0, cin, oh * ow])]), dzRows]);
      offsets.push(g.op('ReduceSum', [product, g.ints([0])], { keepdims: 1 }, `d_${op.name}_kernel_${i}_${j}`));
    }
  }
  const stacked = offsets.length === 1 ? offsets[0] : g.op('Concat', offsets, { axis: 0 });
  return g.op('Reshape', [stacked, g.ints([kh, kw, cin, cout])], {}, `d_${op.name}_kernel`);
}

/** Each output's gradient goes to the input position that won the max (added up on overlaps). */
function maxPoolBackward(g: OnnxGraphBuilder, op: MaxPoolOp, dy: string, x: string, indices: string): string {
  const flatX = g.op('Reshape', [x, g.ints([-1])]);
  const zeros = g.op('ConstantOfShape', [g.op('Shape', [flatX])]);
  const scattered = g.op(
    'ScatterElements',
    [zeros, g.op('Reshape', [indices, g.ints([-1])]), g.op('Reshape', [dy, g.ints([-1])])],
    { axis: 0, reduction: 'add' },
    `d_${op.name}`,
  );
  return g.op('Reshape', [scattered, g.op('Shape', [x])]);
}

function poolAttributes(op: MaxPoolOp) {
  return { kernel_shape: op.pool, strides: op.strides, pads: onnxPads(op.pads) };
}

/** [top, bottom, left, right] → ONNX's [top, left, bottom, right]. */
function onnxPads([t, b, l, r]: [number, number, number, number]): number[] {
  return [t, l, b, r];
}
