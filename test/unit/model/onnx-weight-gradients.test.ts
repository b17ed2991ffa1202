import * as tf from '@tensorflow/tfjs';
import type { ImageBatch, LossCoefficients } from '../../../src/model/engine';
import { lowerKerasModel, type LayerGraph } from '../../../src/model/layer-graph';
import { createOnnxEngine, createOnnxTrainableEngine } from '../../../src/model/onnx/onnx-engine';
import { trainableOps, withParameters, type TrainableEngine } from '../../../src/model/trainable';
import { tinyNetwork } from '../../helpers/tiny-network';
import { maxRelativeError } from '../../helpers/numeric';

const IDENTITY = { scale: 1, channelOrder: 'RGB' as const, mean: [0, 0, 0] as [number, number, number], description: 'none' };
const sum = (v: Float32Array): number => v.reduce((s, x) => s + x, 0);

// The same on ResNet50: test/engine/model/onnx-weight-gradients.test.ts.
describe('ONNX Runtime weight gradients on a small random network', () => {
  const batch = 3;
  const [h, w, k] = [17, 19, 10];
  const x = Float32Array.from({ length: batch * h * w * 3 }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
  const a = Float32Array.from({ length: batch * k }, (_, i) => ((i * 7) % 10) / 10 - 0.45);
  const info = { model: 'tiny', inputHeight: h, inputWidth: w, numClasses: k };
  let graph: LayerGraph;
  let model: tf.LayersModel;
  let engine: TrainableEngine;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const tiny = await tinyNetwork();
    model = tiny.model;
    graph = lowerKerasModel(tiny.files, 'logits');
    engine = await createOnnxTrainableEngine(graph, IDENTITY, info, 'all');
  });
  afterAll(() => engine.dispose());

  it('trains the ops each selection names', async () => {
    expect(trainableOps(graph, 'all').map((op) => op.name)).toEqual(['c1', 'a', 'b', 's', 'logits']);
    expect(trainableOps(graph, 'fc').map((op) => op.name)).toEqual(['logits']);
    // The last strided conv is s (2×2, stride 2), reading the pool's output, as a does: the stage starts at a.
    expect(trainableOps(graph, 'last-stage').map((op) => op.name)).toEqual(['a', 'b', 's', 'logits']);
    expect(engine.parameters.map((p) => p.name)).toEqual(['c1/kernel', 'c1/bias', 'a/kernel', 'a/bias', 'b/kernel', 'b/bias', 's/kernel', 's/bias', 'logits/kernel', 'logits/bias']);
  });

  it('gives the gradient tf.variableGrads gives through the layers model (batch-norm folded: scaled per channel)', async () => {
    const ours = await engine.weightGradient({ data: x, count: batch }, { a, b: new Float32Array(batch * k) });
    const reference = tf.tidy(() => {
      const input = tf.tensor4d(x, [batch, h, w, 3]);
      const variables = model.trainableWeights.map((v) => v.read() as tf.Variable);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.tensor2d(a, [batch, k]), tf.log(model.apply(input) as tf.Tensor))) as tf.Scalar, variables);
      return Object.fromEntries(model.trainableWeights.map((v, i) => [v.originalName, grads[variables[i].name].dataSync() as Float32Array]));
    });
    // c1 is followed by bn1: folded kernel K·s and bias b·s + t, so dL/dK = dL/dK'·s per output channel.
    const bn = model.getLayer('bn1').getWeights();
    const [gamma, , mean, variance] = bn.map((t) => t.dataSync());
    const epsilon = (model.getLayer('bn1').getConfig().epsilon as number) ?? 1e-3;
    const scale = Float32Array.from(mean, (_, c) => gamma[c] / Math.sqrt(variance[c] + epsilon));
    const unfolded = (g: Float32Array) => g.map((v, i) => v * scale[i % scale.length]);
    const byName = new Map(engine.parameters.map((p, i) => [p.name, ours.gradients[i]]));
    const checks: [string, Float32Array][] = [
      ['c1/kernel', unfolded(byName.get('c1/kernel') as Float32Array)],
      ['c1/bias', unfolded(byName.get('c1/bias') as Float32Array)],
      ['a/kernel', byName.get('a/kernel') as Float32Array],
      ['a/bias', byName.get('a/bias') as Float32Array],
      ['b/kernel', byName.get('b/kernel') as Float32Array],
      ['s/kernel', byName.get('s/kernel') as Float32Array],
      ['logits/kernel', byName.get('logits/kernel') as Float32Array],
      ['logits/bias', byName.get('logits/bias') as Float32Array],
    ];
    for (const [name, gradient] of checks) {
      const expected = reference[name];
      expect([name, expected.length]).toEqual([name, gradient.length]);
      expect([name, maxRelativeError(gradient, expected)]).toEqual([name, expect.any(Number)]);
      expect(maxRelativeError(gradient, expected)).toBeLessThan(1e-4);
    }
    // The loss and logits are those of the input-gradient model.
    const plain = await engine.lossGradient({ data: x, count: batch }, { a, b: new Float32Array(batch * k) });
    expect(maxRelativeError(ours.loss, plain.loss)).toBeLessThan(1e-6);
  });

  it('matches central finite differences of the loss, entry by entry', async () => {
    const input: ImageBatch = { data: x, count: batch };
    const loss: LossCoefficients = { a, b: Float32Array.from({ length: batch * k }, (_, i) => ((i * 3) % 10) / 10 - 0.5) };
    const { gradients } = await engine.weightGradient(input, loss);
    const totalLoss = async () => sum((await engine.lossGradient(input, loss)).loss);
    for (const [p, i] of [[0, 7], [1, 2], [2, 100], [5, 3], [6, 11], [8, 23], [9, 4]] as const) {
      const parameter = engine.parameters[p];
      const original = parameter.data[i];
      const step = 1e-2;
      parameter.data[i] = original + step;
      const up = await totalLoss();
      parameter.data[i] = original - step;
      const down = await totalLoss();
      parameter.data[i] = original;
      // Float32 losses of order 10 differ by ~1e-6 per evaluation; a step of 1e-2 leaves
      // a difference quotient good to about 1e-3 of a gradient of order 1.
      expect([parameter.name, i, gradients[p][i]]).toEqual([parameter.name, i, expect.closeTo((up - down) / (2 * step), 2)]);
    }
  });

  it('uses parameters changed in place on the next call, as a model compiled with them does', async () => {
    const input: ImageBatch = { data: x, count: batch };
    const before = await engine.logits(input);
    for (const p of engine.parameters) p.data.forEach((v, i) => (p.data[i] = v * 0.9 + 0.01 * Math.cos(i)));
    const after = await engine.logits(input);
    const recompiled = await createOnnxEngine(withParameters(graph, engine.parameters), IDENTITY, info);
    expect(maxRelativeError(after, await recompiled.logits(input))).toBeLessThan(1e-5);
    expect(maxRelativeError(after, before)).toBeGreaterThan(1e-2);
    recompiled.dispose();
  });
});
