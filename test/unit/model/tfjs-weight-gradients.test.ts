import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { ImageBatch, LossCoefficients } from '../../../src/model/engine';
import { compileTfjsNetwork } from '../../../src/model/keras-network';
import { lowerKerasModel, type LayerGraph } from '../../../src/model/layer-graph';
import type { ModelManifest } from '../../../src/model/manifest';
import { createNormalizer } from '../../../src/model/normalize';
import { createTfjsTrainableEngine } from '../../../src/model/tfjs-engine';
import { withParameters, type TrainableSelection } from '../../../src/model/trainable';
import { maxRelativeError } from '../../helpers/numeric';
import { tinyNetwork } from '../../helpers/tiny-network';
import { errorsOver, referenceGradients, registerWasmConv2DBackpropFilter } from '../../helpers/tfjs-reference';

type Preprocessing = ModelManifest['preprocessing'];
/** Not the identity, so that the gradients pass through a scale and a channel swap. */
const PREPROCESSING: Preprocessing = { scale: 2, channelOrder: 'BGR', mean: [0.2, 0.5, 0.9], description: 'test' };

/** Σ over the batch of L = Σ a·log softmax(z) + Σ b·z, from float32 logits in float64. */
function totalLoss(logits: Float32Array, { a, b }: LossCoefficients, classes: number): number {
  let total = 0;
  for (let n = 0; n < logits.length / classes; n++) {
    const z = Array.from(logits.subarray(n * classes, (n + 1) * classes));
    const top = Math.max(...z);
    const logSum = top + Math.log(z.reduce((s, v) => s + Math.exp(v - top), 0));
    z.forEach((v, k) => (total += a[n * classes + k] * (v - logSum) + b[n * classes + k] * v));
  }
  return total;
}

// The same on ResNet50: test/engine/model/tfjs-weight-gradients.test.ts.
describe.each(['cpu', 'wasm'] as const)('TensorFlow.js weight gradients on a small random network (%s)', (backend) => {
  const batch = 3;
  const [h, w, k] = [17, 19, 10];
  const input: ImageBatch = { data: Float32Array.from({ length: batch * h * w * 3 }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5), count: batch };
  const loss: LossCoefficients = {
    a: Float32Array.from({ length: batch * k }, (_, i) => ((i * 7) % 10) / 10 - 0.45),
    b: Float32Array.from({ length: batch * k }, (_, i) => ((i * 3) % 10) / 10 - 0.5),
  };
  const info = { model: 'tiny', backend, inputHeight: h, inputWidth: w, numClasses: k };
  const engineFor = (selection: TrainableSelection) => createTfjsTrainableEngine(graph, PREPROCESSING, info, selection);
  const pixels = () => tf.tensor4d(input.data, [batch, h, w, 3]);
  let graph: LayerGraph;

  beforeAll(async () => {
    await tf.setBackend(backend);
    registerWasmConv2DBackpropFilter();
    const tiny = await tinyNetwork();
    tiny.model.dispose();
    graph = lowerKerasModel(tiny.files, 'logits');
  });

  it('gives the gradient tf.variableGrads gives, for every parameter, without leaking tensors', async () => {
    const empty = tf.memory().numTensors;
    const engine = await engineFor('all');
    const before = engine.tensorCount();
    const ours = await engine.weightGradient(input, loss);
    expect(engine.tensorCount()).toBe(before);
    const reference = compileTfjsNetwork(graph, { gradients: 'autodiff', tapeArithmetic: true, parameters: engine.parameters });
    const x = pixels();
    const expected = referenceGradients(reference, PREPROCESSING, x, loss);
    x.dispose();
    reference.dispose();
    const over = errorsOver(
      engine.parameters.map((p) => p.name),
      ours.gradients,
      expected,
      1e-4,
    );
    expect(over).toEqual([]);
    // Its logits and loss are those of the engine's other calls.
    const plain = await engine.lossGradient(input, loss);
    expect(ours.logits).toEqual(plain.logits);
    expect(ours.loss).toEqual(plain.loss);
    expect(engine.tensorCount()).toBe(before);
    engine.dispose();
    expect(tf.memory().numTensors).toBe(empty);
  });

  it('trains the layers each selection names, with the gradients it gives when every layer is trained', async () => {
    const all = await engineFor('all');
    const everything = await all.weightGradient(input, loss);
    const names = all.parameters.map((p) => p.name);
    const expectations: [TrainableSelection, string[]][] = [
      ['fc', ['logits']],
      ['last-stage', ['a', 'b', 's', 'logits']],
    ];
    for (const [selection, ops] of expectations) {
      const engine = await engineFor(selection);
      expect(engine.parameters.map((p) => p.name)).toEqual(ops.flatMap((op) => [`${op}/kernel`, `${op}/bias`]));
      const before = engine.tensorCount();
      const { gradients, logits } = await engine.weightGradient(input, loss);
      expect(engine.tensorCount()).toBe(before);
      // Skipping the work below the lowest trained op changes none of the sums above it.
      expect(logits).toEqual(everything.logits);
      engine.parameters.forEach((p, i) => expect([p.name, gradients[i]]).toEqual([p.name, everything.gradients[names.indexOf(p.name)]]));
      engine.dispose();
    }
    all.dispose();
  });

  it('uses parameters changed in place on the next call, as a network compiled with them does', async () => {
    const engine = await engineFor('all');
    const original = await engine.logits(input);
    for (const p of engine.parameters) p.data.forEach((v, i) => (p.data[i] = v * 0.9 + 0.01 * Math.cos(i)));
    const before = engine.tensorCount();
    const logits = await engine.logits(input);
    const { gradient } = await engine.lossGradient(input, loss);
    const { gradients } = await engine.weightGradient(input, loss);
    expect(engine.tensorCount()).toBe(before);

    const recompiled = compileTfjsNetwork(withParameters(graph, engine.parameters));
    const normalizer = createNormalizer(PREPROCESSING);
    const expected = tf.tidy(() => {
      const traced = recompiled.trace(normalizer.apply(pixels()));
      const [a, b] = [tf.tensor2d(loss.a, [batch, k]), tf.tensor2d(loss.b, [batch, k])];
      const dLogits = tf.add(tf.sub(a, tf.mul(tf.softmax(traced.logits), tf.sum(a, 1, true))), b) as tf.Tensor2D;
      return { logits: traced.logits.dataSync() as Float32Array, gradient: normalizer.backward(traced.backward(dLogits)).dataSync() as Float32Array };
    });
    recompiled.dispose();
    normalizer.dispose();
    expect(maxRelativeError(logits, original)).toBeGreaterThan(1e-2);
    // The same ops on the same values: the trained convolutions' input gradient follows their new kernels too.
    expect(maxRelativeError(logits, expected.logits)).toBeLessThan(1e-6);
    expect(maxRelativeError(gradient, expected.gradient)).toBeLessThan(1e-5);

    const reference = compileTfjsNetwork(graph, { gradients: 'autodiff', tapeArithmetic: true, parameters: engine.parameters });
    const x = pixels();
    const over = errorsOver(
      engine.parameters.map((p) => p.name),
      gradients,
      referenceGradients(reference, PREPROCESSING, x, loss),
      1e-4,
    );
    x.dispose();
    reference.dispose();
    expect(over).toEqual([]);
    engine.dispose();
  });

  it('does no work below the lowest trained op', async () => {
    const convolutions = async (call: () => Promise<unknown>): Promise<number> => {
      const { kernels } = await tf.profile(async () => void (await call()));
      return kernels.filter(({ name }) => name.includes('Conv2D')).length;
    };
    const fc = await engineFor('fc');
    const forward = await convolutions(() => fc.logits(input));
    expect(forward).toBe(4);
    expect(await convolutions(() => fc.weightGradient(input, loss))).toBe(forward);
    fc.dispose();
    // The last stage: the kernel gradients of a, b and s, and dL/d(a's output) through b; none
    // through a or s (their input, the pool's output, is below every trained op) nor c1.
    const lastStage = await engineFor('last-stage');
    expect(await convolutions(() => lastStage.weightGradient(input, loss))).toBe(forward + 3 + 1);
    lastStage.dispose();
  });

  if (backend === 'cpu') {
    it('matches central finite differences of the loss, entry by entry', async () => {
      const engine = await engineFor('all');
      const { gradients } = await engine.weightGradient(input, loss);
      const lossNow = async () => totalLoss(await engine.logits(input), loss, k);
      // [parameter, entry]: a kernel and a bias entry of every layer.
      const entries = [[0, 7], [1, 2], [2, 101], [3, 5], [4, 30], [5, 3], [6, 11], [7, 1], [8, 23], [9, 4]] as const;
      const step = 1e-3;
      const misses: unknown[] = [];
      for (const [p, i] of entries) {
        const parameter = engine.parameters[p];
        const original = parameter.data[i];
        parameter.data[i] = original + step;
        const up = await lossNow();
        parameter.data[i] = original - step;
        const down = await lossNow();
        parameter.data[i] = original;
        const difference = (up - down) / (2 * step);
        // Float32 throughout the network (only the loss is summed in float64 from the logits):
        // the two losses, of order 10, differ by rounding of ~1e-6 at most, ~5e-4 in the quotient
        // at worst, though mostly the same rounding on both sides (misses seen: ≤ 2e-5). A wrong
        // mask, crop or layout errs by a good part of the gradient, which is of order 0.01 to 1.
        // The step is small because a ReLU or max-pool that switches within it spoils the
        // quotient: at 1e-2, c1's bias gave −0.1005 for −0.1192.
        if (!(Math.abs(difference - gradients[p][i]) <= 5e-5 + 1e-3 * Math.abs(gradients[p][i]))) misses.push([parameter.name, i, gradients[p][i], difference]);
      }
      expect(misses).toEqual([]);
      engine.dispose();
    });
  }
});
