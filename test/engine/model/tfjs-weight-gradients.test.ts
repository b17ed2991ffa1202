import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../../src/config';
import type { ImageBatch, LossCoefficients } from '../../../src/model/engine';
import { compileTfjsNetwork } from '../../../src/model/keras-network';
import { lowerKerasModel, type LayerGraph } from '../../../src/model/layer-graph';
import { modelFolder, readManifest } from '../../../src/model/manifest';
import { createNormalizer } from '../../../src/model/normalize';
import { createTfjsTrainableEngine } from '../../../src/model/tfjs-engine';
import { parametersOf, trainableOps, type TrainableEngine } from '../../../src/model/trainable';
import { readLayersModel } from '../../../src/model/weights';
import { PIG, testDataPath } from '../../helpers/data';
import { errorsOver, referenceGradients, registerWasmConv2DBackpropFilter } from '../../helpers/tfjs-reference';

// Every layer kind on the small random network: test/unit/model/tfjs-weight-gradients.test.ts.
describe('TensorFlow.js weight gradients on ResNet50 (wasm, last stage trained)', () => {
  const HOG = 341;
  const AIRLINER = 404;
  const { ADVPROBE_MODELS_DIR: modelsDir } = loadConfig();
  const manifest = readManifest(modelsDir, 'resnet50');
  const info = { model: 'resnet50', backend: 'wasm' as const, inputHeight: 224, inputWidth: 224, numClasses: 1000 };
  // L = log p(airliner) − log p(hog) and a small logit term.
  const loss: LossCoefficients = { a: new Float32Array(1000), b: new Float32Array(1000) };
  loss.a[AIRLINER] = 1;
  loss.a[HOG] = -1;
  loss.b[AIRLINER] = 0.1;
  let graph: LayerGraph;
  let pig: Float32Array;

  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerWasmConv2DBackpropFilter();
    graph = lowerKerasModel(readLayersModel(path.join(modelFolder(modelsDir, manifest), manifest.modelFile)), manifest.logitsLayer);
    const { data } = await sharp(testDataPath(...PIG)).resize(224, 224, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    pig = Float32Array.from(data, (v) => v / 255);
  });

  it('gives the gradient tf.variableGrads gives for the fc kernel and conv5 kernels and biases', async () => {
    const parameters = parametersOf(trainableOps(graph, 'last-stage'));
    // The lowest trained op (a strided 1×1 convolution: its input cropped), a 3×3 one, a 1×1 one
    // of stride 1 (a matrix product), the dense layer.
    const names = ['res5a_branch2a/kernel', 'res5a_branch2a/bias', 'res5c_branch2b/kernel', 'res5c_branch2b/bias', 'res5c_branch2c/kernel', 'fc1000/kernel'];
    const checked = parameters.filter((p) => names.includes(p.name));
    const ours = compileTfjsNetwork(graph, { parameters, tapeArithmetic: true });
    const normalizer = createNormalizer(manifest.preprocessing);
    const x = tf.tensor4d(pig, [1, 224, 224, 3]);
    const before = tf.memory().numTensors;
    const actual = tf.tidy(() => {
      const traced = ours.traceWeights(normalizer.apply(x));
      const [a, b] = [tf.tensor2d(loss.a, [1, 1000]), tf.tensor2d(loss.b, [1, 1000])];
      const gradients = traced.backward(tf.add(tf.sub(a, tf.mul(tf.softmax(traced.logits), tf.sum(a, 1, true))), b) as tf.Tensor2D);
      return checked.map((p) => gradients[parameters.indexOf(p)].dataSync() as Float32Array);
    });
    expect(tf.memory().numTensors).toBe(before);
    ours.dispose();
    normalizer.dispose();

    const reference = compileTfjsNetwork(graph, { gradients: 'autodiff', tapeArithmetic: true, parameters: checked });
    const expected = referenceGradients(reference, manifest.preprocessing, x, loss);
    x.dispose();
    reference.dispose();
    const over = errorsOver(
      checked.map((p) => p.name),
      actual,
      expected,
      1e-4,
    );
    expect(over).toEqual([]);
  }, 120_000);

  it('gives the engine its weight gradient for the last stage, without leaking tensors', async () => {
    const engine: TrainableEngine = await createTfjsTrainableEngine(graph, manifest.preprocessing, info, 'last-stage');
    expect([engine.parameters[0].name, engine.parameters.at(-1)?.name, engine.parameters.length]).toEqual(['res5a_branch2a/kernel', 'fc1000/bias', 22]);
    const input: ImageBatch = { data: pig, count: 1 };
    await engine.weightGradient(input, loss); // XNNPACK sets its operators up on first use
    const before = engine.tensorCount();
    const { gradients, loss: value } = await engine.weightGradient(input, loss);
    expect(engine.tensorCount()).toBe(before);
    expect(gradients.map((g) => g.length)).toEqual(engine.parameters.map((p) => p.data.length));
    expect(value).toEqual((await engine.lossGradient(input, loss)).loss);
    engine.dispose();
  }, 120_000);
});
