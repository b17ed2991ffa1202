import type { ConvOp, GraphOp, LayerGraph, MaxPoolOp, Pads } from '../../../src/model/layer-graph';
import { foldZeroPadding } from '../../../src/model/onnx/pad-folding';

const conv = (name: string, input: string, relu: boolean, pads: Pads = [0, 0, 0, 0]): ConvOp => ({
  kind: 'conv',
  name,
  input,
  kernel: { shape: [3, 3, 4, 4], data: new Float32Array(144) },
  bias: new Float32Array(4),
  strides: [1, 1],
  padding: 'valid',
  pads,
  relu,
});
const pool = (name: string, input: string, pads: Pads = [0, 0, 0, 0]): MaxPoolOp => ({ kind: 'maxpool', name, input, pool: [3, 3], strides: [2, 2], padding: 'valid', pads });
const graphOf = (ops: GraphOp[]): LayerGraph => ({ input: 'x', ops, output: ops[ops.length - 1].name, shapes: new Map() });

describe('foldZeroPadding', () => {
  it("folds a zero padding into the convolution that alone reads it, adding to the convolution's pads", () => {
    const folded = foldZeroPadding(graphOf([{ kind: 'pad', name: 'p', input: 'x', pads: [3, 3, 2, 1] }, conv('c', 'p', false, [1, 0, 0, 1])]));
    expect(folded.ops).toEqual([{ ...conv('c', 'x', false), pads: [4, 3, 2, 2] }]);
  });

  it("folds ResNet50's stem padding into the max-pool after a ReLU", () => {
    const folded = foldZeroPadding(graphOf([conv('c', 'x', true), { kind: 'pad', name: 'p', input: 'c', pads: [1, 1, 1, 1] }, pool('m', 'p')]));
    expect(folded.ops).toEqual([conv('c', 'x', true), pool('m', 'c', [1, 1, 1, 1])]);
  });

  it('keeps the padding before a max-pool of values that may be negative (a max-pool pads with −∞, not 0)', () => {
    const graph = graphOf([conv('c', 'x', false), { kind: 'pad', name: 'p', input: 'c', pads: [1, 1, 1, 1] }, pool('m', 'p')]);
    expect(foldZeroPadding(graph).ops).toEqual(graph.ops);
  });

  it('keeps a padding that two ops read', () => {
    const graph = graphOf([{ kind: 'pad', name: 'p', input: 'x', pads: [1, 1, 1, 1] }, conv('c', 'p', true), conv('d', 'p', true), { kind: 'add', name: 'a', inputs: ['c', 'd'] }]);
    expect(foldZeroPadding(graph).ops).toEqual(graph.ops);
  });
});
