import * as tf from '@tensorflow/tfjs';
import type { ClassifierEngine } from '../../../src/model/engine';
import { compileKerasNetwork } from '../../../src/model/keras-network';
import { lowerKerasModel } from '../../../src/model/layer-graph';
import { createOnnxEngine } from '../../../src/model/onnx/onnx-engine';
import { tinyNetwork } from '../../helpers/tiny-network';
import { cosine, maxRelativeError } from '../../helpers/numeric';

const IDENTITY = { scale: 1, channelOrder: 'RGB' as const, mean: [0, 0, 0] as [number, number, number], description: 'none' };

// The same engine on ResNet50: test/engine/model/onnx-engine.test.ts.
describe.each([
  ['', false],
  [' with 16- and 32-channel convolutions (ONNX Runtime\'s blocked layout)', true],
])('ONNX Runtime engine on a small random network%s', (_, wide) => {
  const batch = 3;
  const [h, w, k] = [17, 19, 10];
  const x = Float32Array.from({ length: batch * h * w * 3 }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
  const a = Float32Array.from({ length: batch * k }, (_, i) => ((i * 7) % 10) / 10 - 0.45);
  const b = Float32Array.from({ length: batch * k }, (_, i) => ((i * 3) % 10) / 10 - 0.5);
  let onnx: ClassifierEngine;
  let tfjsNetwork: ReturnType<typeof compileKerasNetwork>;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const { files } = await tinyNetwork(1, wide);
    onnx = await createOnnxEngine(lowerKerasModel(files, 'logits'), IDENTITY, { model: 'tiny', inputHeight: h, inputWidth: w, numClasses: k });
    tfjsNetwork = compileKerasNetwork(files, 'logits');
  });
  afterAll(() => {
    onnx.dispose();
    tfjsNetwork.dispose();
  });

  it('matches the layers model and its autodiff gradient (log-softmax and logit terms)', async () => {
    const { model } = await tinyNetwork(1, wide);
    const expected = tf.tidy(() => {
      const input = tf.tensor4d(x, [batch, h, w, 3]);
      // The layers model ends in softmax; log of it gives log-softmax, and the compiled
      // network (itself checked against the layers model) gives the logits for the b term.
      const f = (v: tf.Tensor) =>
        tf.add(tf.sum(tf.mul(tf.tensor2d(a, [batch, k]), tf.log(model.apply(v) as tf.Tensor))), tf.sum(tf.mul(tf.tensor2d(b, [batch, k]), tfjsNetwork.apply(v as tf.Tensor4D))));
      return { logits: tfjsNetwork.apply(input).dataSync(), gradient: tf.grad(f)(input).dataSync(), probabilities: (model.predict(input) as tf.Tensor).dataSync() };
    });
    const ours = await onnx.lossGradient({ data: x, count: batch }, { a, b });
    expect(maxRelativeError(ours.logits, expected.logits)).toBeLessThan(1e-4);
    expect(maxRelativeError(tf.tidy(() => tf.softmax(tf.tensor2d(ours.logits, [batch, k])).dataSync()), expected.probabilities)).toBeLessThan(1e-4);
    expect(maxRelativeError(ours.gradient, expected.gradient)).toBeLessThan(1e-4);
    expect(cosine(ours.gradient, expected.gradient)).toBeGreaterThan(0.99999);
    expect(maxRelativeError(await onnx.logits({ data: x, count: batch }), expected.logits)).toBeLessThan(1e-4);
  });

  it('rejects a batch of the wrong size', async () => {
    await expect(onnx.logits({ data: new Float32Array(5), count: 1 })).rejects.toThrow(/expected/);
  });
});
