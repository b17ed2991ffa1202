import type { ConvOp, DenseOp } from '../layer-graph';
import type { Parameter } from '../trainable';
import type { GraphIO, OnnxGraphBuilder } from './onnx-builder';

/**
 * Where the ONNX graph reads a layer's weights from: constants baked in at build time (the
 * serving models, which ONNX Runtime can pre-pack), or graph inputs fed on every run (the
 * training models, whose weights change after each optimiser step). Every name returned is
 * an ONNX value in ONNX's layout.
 */
export interface WeightSource {
  /** Conv: [out, in, kh, kw]; dense: [in, out]. */
  kernel(op: ConvOp | DenseOp): string;
  bias(op: ConvOp | DenseOp): string;
  /** A stride-1 conv's backward kernel [in, out, kh, kw]: rotated 180° spatially, in and out swapped. */
  backwardKernel(op: ConvOp): string;
  /** Whether training updates this op (its weight gradient is wanted). */
  trains(op: ConvOp | DenseOp): boolean;
}

/** Weights as initialisers, prepared in their final layout once. */
export function constantWeights(g: OnnxGraphBuilder): WeightSource {
  const kernels = new Map<string, string>();
  return {
    kernel(op) {
      const known = kernels.get(op.name);
      if (known) return known;
      const [kh, kw, cin, cout] = op.kernel.shape;
      const name =
        op.kind === 'conv'
          ? g.floats(`${op.name}_kernel`, hwioToOihw(op.kernel.data, [kh, kw, cin, cout]), [cout, cin, kh, kw])
          : g.floats(`${op.name}_kernel`, op.kernel.data, op.kernel.shape);
      kernels.set(op.name, name);
      return name;
    },
    bias: (op) => g.floats(`${op.name}_bias`, op.bias, [op.bias.length]),
    backwardKernel(op) {
      const [kh, kw, cin, cout] = op.kernel.shape;
      return g.floats(`${op.name}_backward_kernel`, flippedTransposed(op.kernel.data, [kh, kw, cin, cout]), [cin, cout, kh, kw]);
    },
    trains: () => false,
  };
}

/**
 * The parameters' weights as graph inputs named by the parameter (layout of the lowered
 * graph: conv [kh, kw, in, out], dense [in, out]), turned into ONNX's layout inside the
 * graph; the other layers' weights stay constants.
 */
export function inputWeights(g: OnnxGraphBuilder, parameters: readonly Parameter[]): { source: WeightSource; inputs: GraphIO[] } {
  const constants = constantWeights(g);
  const byName = new Map(parameters.map((p) => [p.name, p]));
  const inputs: GraphIO[] = parameters.map((p) => ({ name: p.name, shape: p.shape }));
  const own = (op: ConvOp | DenseOp, role: Parameter['role']): string | undefined => byName.get(`${op.name}/${role}`)?.name;
  const converted = new Map<string, string>();
  const once = (key: string, make: () => string): string => {
    const known = converted.get(key);
    if (known) return known;
    const made = make();
    converted.set(key, made);
    return made;
  };
  return {
    inputs,
    source: {
      kernel(op) {
        const input = own(op, 'kernel');
        if (!input) return constants.kernel(op);
        return op.kind === 'dense' ? input : once(`${op.name}/oihw`, () => g.op('Transpose', [input], { perm: [3, 2, 0, 1] }, `${op.name}_kernel`));
      },
      bias: (op) => own(op, 'bias') ?? constants.bias(op),
      backwardKernel(op) {
        const input = own(op, 'kernel');
        if (!input) return constants.backwardKernel(op);
        return once(`${op.name}/backward`, () => {
          const [kh, kw] = op.kernel.shape;
          const swapped = g.op('Transpose', [input], { perm: [2, 3, 0, 1] }, `${op.name}_backward_kernel`);
          if (kh === 1 && kw === 1) return swapped;
          // Slice with step −1 over the spatial axes is the 180° rotation.
          const big = Number.MAX_SAFE_INTEGER;
          return g.op('Slice', [swapped, g.ints([-1, -1]), g.ints([-big, -big]), g.ints([2, 3]), g.ints([-1, -1])], {}, `${op.name}_backward_kernel`);
        });
      },
      trains: (op) => own(op, 'kernel') !== undefined,
    },
  };
}

/** TensorFlow's [kh, kw, in, out] kernel → ONNX's [out, in, kh, kw]. */
export function hwioToOihw(data: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cin; c++)
        for (let o = 0; o < cout; o++) out[((o * cin + c) * kh + i) * kw + j] = data[((i * kw + j) * cin + c) * cout + o];
  return out;
}

/** The backward kernel [in, out, kh, kw]: rotated 180° spatially, in and out swapped. */
function flippedTransposed(data: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cin; c++)
        for (let o = 0; o < cout; o++) out[((c * cout + o) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)] = data[((i * kw + j) * cin + c) * cout + o];
  return out;
}
