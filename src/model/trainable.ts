import type { ClassifierEngine, ImageBatch, LossCoefficients } from './engine';
import { opInputs, type ConvOp, type DenseOp, type LayerGraph } from './layer-graph';

/**
 * What adversarial training needs of an engine beyond ClassifierEngine: the weights it may
 * change, and the gradient of the loss with respect to them. Batch-norm stays folded into
 * the convolutions and frozen (evaluation mode), so the trainable weights are the folded
 * convolution kernels and biases and the dense layer's.
 */

/** Which layers training updates: the dense layer, the last residual stage and the dense layer, or every layer. */
export const TRAINABLE_SELECTIONS = ['fc', 'last-stage', 'all'] as const;
export type TrainableSelection = (typeof TRAINABLE_SELECTIONS)[number];

/** One trainable weight in the lowered graph's layout (conv kernels [kh, kw, in, out], dense [in, out]). */
export interface Parameter {
  /** `<op name>/kernel` or `<op name>/bias`. */
  name: string;
  op: string;
  role: 'kernel' | 'bias';
  shape: number[];
  /** Live: the optimiser updates it in place and the engine's next call uses it. */
  data: Float32Array;
  /**
   * Per output channel (the last axis of a kernel, a bias's only one), the square of the
   * folded batch-norm's scale s: SGD on folded weights with the gradient multiplied by s² is
   * exactly SGD on the Keras weights with batch-norm frozen (K' = s·K, so ∂L/∂K = s·∂L/∂K'
   * and K' moves by s² times the step). Without it the folded weights train at other
   * speeds per channel (s ranges from ~0.01 to 300 in ResNet50). null: no batch-norm, 1.
   */
  channelStep: Float32Array | null;
}

export interface WeightGradient {
  logits: Float32Array; // [count × numClasses]
  loss: Float32Array; // [count]
  /** d(Σ over the batch of L)/dθ, one per parameter, in the parameters' order and layout. */
  gradients: Float32Array[];
}

export interface TrainableEngine extends ClassifierEngine {
  readonly parameters: readonly Parameter[];
  weightGradient(batch: ImageBatch, loss: LossCoefficients): Promise<WeightGradient>;
  /**
   * A serving engine with the current parameters baked in, where that is faster for many
   * calls between updates (scoring): ONNX Runtime pre-packs constant weights, and weights fed
   * as inputs are re-laid out on every call (1.5 s against 0.8 s per gradient at batch 8).
   * The caller disposes it. Absent: use this engine.
   */
  snapshot?(): Promise<ClassifierEngine>;
}

type WeightedOp = ConvOp | DenseOp;
const isWeighted = (op: LayerGraph['ops'][number]): op is WeightedOp => op.kind === 'conv' || op.kind === 'dense';

/**
 * The ops a selection trains, in graph order. The last stage starts where the input of the
 * last strided convolution is first read (ResNet50: conv5_block1's main branch and shortcut).
 */
export function trainableOps(graph: LayerGraph, selection: TrainableSelection): WeightedOp[] {
  const weighted = graph.ops.filter(isWeighted);
  if (selection === 'all') return weighted;
  if (selection === 'fc') return weighted.filter((op) => op.name === graph.output);
  const strided = graph.ops.filter((op): op is ConvOp => op.kind === 'conv' && (op.strides[0] > 1 || op.strides[1] > 1));
  const lastStrided = strided.at(-1);
  if (!lastStrided) throw new Error('the model has no strided convolution, so no last stage to train');
  const start = graph.ops.findIndex((op) => opInputs(op).includes(lastStrided.input));
  return graph.ops.slice(start).filter(isWeighted);
}

/** The parameters of those ops: copies of their weights, kernel then bias per op. */
export function parametersOf(ops: WeightedOp[]): Parameter[] {
  return ops.flatMap((op) => {
    const channelStep = op.kind === 'conv' && op.batchNorm ? op.batchNorm.scale.map((s) => s * s) : null;
    return [
      { name: `${op.name}/kernel`, op: op.name, role: 'kernel' as const, shape: [...op.kernel.shape], data: op.kernel.data.slice(), channelStep },
      { name: `${op.name}/bias`, op: op.name, role: 'bias' as const, shape: [op.bias.length], data: op.bias.slice(), channelStep },
    ];
  });
}

/** The graph with these parameters' current values in place of its weights (to save or recompile). */
export function withParameters(graph: LayerGraph, parameters: readonly Parameter[]): LayerGraph {
  const byOp = new Map<string, Parameter[]>();
  for (const p of parameters) byOp.set(p.op, [...(byOp.get(p.op) ?? []), p]);
  const ops = graph.ops.map((op) => {
    const own = byOp.get(op.name);
    if (!own || !isWeighted(op)) return op;
    const kernel = own.find((p) => p.role === 'kernel');
    const bias = own.find((p) => p.role === 'bias');
    return { ...op, kernel: kernel ? { shape: op.kernel.shape, data: kernel.data.slice() } : op.kernel, bias: bias ? bias.data.slice() : op.bias };
  });
  return { ...graph, ops };
}
