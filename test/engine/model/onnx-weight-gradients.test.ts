import { loadConfig } from '../../../src/config';
import type { ImageBatch, LossCoefficients } from '../../../src/model/engine';
import { lowerKerasModel } from '../../../src/model/layer-graph';
import { readManifest, modelFolder } from '../../../src/model/manifest';
import { createOnnxTrainableEngine } from '../../../src/model/onnx/onnx-engine';
import { createTfjsTrainableEngine } from '../../../src/model/tfjs-engine';
import sharp from 'sharp';
import { PIG, testDataPath } from '../../helpers/data';
import { readLayersModel } from '../../../src/model/weights';
import { cosine, maxRelativeError } from '../../helpers/numeric';
import path from 'node:path';

const sum = (v: Float32Array): number => v.reduce((s, x) => s + x, 0);

// Every layer kind against tf.variableGrads, on the small random network: test/unit/model/onnx-weight-gradients.test.ts.
describe('ONNX Runtime weight gradients on ResNet50', () => {
  const { ADVPROBE_MODELS_DIR: modelsDir } = loadConfig();
  const manifest = readManifest(modelsDir, 'resnet50');

  it('gives the directional derivative finite differences measure, for the last stage', async () => {
    const graph = lowerKerasModel(readLayersModel(path.join(modelFolder(modelsDir, manifest), manifest.modelFile)), manifest.logitsLayer);
    const info = { model: 'resnet50', inputHeight: 224, inputWidth: 224, numClasses: 1000 };
    const engine = await createOnnxTrainableEngine(graph, manifest.preprocessing, info, 'last-stage');
    try {
      const input: ImageBatch = { data: Float32Array.from({ length: 2 * 224 * 224 * 3 }, (_, i) => 0.5 + 0.4 * Math.sin(i * 0.013)), count: 2 };
      const loss: LossCoefficients = { a: new Float32Array(2000), b: new Float32Array(2000) };
      loss.a[341] = -1;
      loss.a[1000 + 404] = -1;
      const { gradients } = await engine.weightGradient(input, loss);
      expect(engine.parameters[0].name).toBe('res5a_branch2a/kernel');
      expect(engine.parameters.at(-1)?.name).toBe('fc1000/bias');
      // Along the gradient itself: d/dt L(θ + t·g/|g|) = |g|.
      const norm = Math.sqrt(gradients.reduce((s, g) => s + g.reduce((t, v) => t + v * v, 0), 0));
      const originals = engine.parameters.map((p) => p.data.slice());
      const shifted = async (t: number) => {
        engine.parameters.forEach((p, j) => p.data.forEach((_, i) => (p.data[i] = originals[j][i] + (t * gradients[j][i]) / norm)));
        return sum((await engine.lossGradient(input, loss)).loss);
      };
      const step = 1e-3;
      const derivative = ((await shifted(step)) - (await shifted(-step))) / (2 * step);
      expect(Math.abs(derivative - norm) / norm).toBeLessThan(2e-2);
    } finally {
      engine.dispose();
    }
  }, 120_000);

  it('agrees with the TensorFlow.js engine (checked against tf.variableGrads on these layers) on the pig, for every last-stage parameter', async () => {
    const graph = lowerKerasModel(readLayersModel(path.join(modelFolder(modelsDir, manifest), manifest.modelFile)), manifest.logitsLayer);
    const info = { model: 'resnet50', inputHeight: 224, inputWidth: 224, numClasses: 1000 };
    const onnx = await createOnnxTrainableEngine(graph, manifest.preprocessing, info, 'last-stage');
    const tfjs = await createTfjsTrainableEngine(graph, manifest.preprocessing, { ...info, backend: 'wasm' }, 'last-stage'); // activates wasm
    try {
      const { data } = await sharp(testDataPath(...PIG)).resize(224, 224, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const input: ImageBatch = { data: Float32Array.from(data, (v) => v / 255), count: 1 };
      const loss: LossCoefficients = { a: new Float32Array(1000), b: new Float32Array(1000) };
      loss.a[404] = 1;
      loss.a[341] = -1;
      const [ours, theirs] = [await onnx.weightGradient(input, loss), await tfjs.weightGradient(input, loss)];
      expect(onnx.parameters.map((p) => p.name)).toEqual(tfjs.parameters.map((p) => p.name));
      // Within 1e-4 relative per parameter (measured 2.4e-6 at worst): the two engines round differently.
      const off = onnx.parameters.flatMap((p, i) => {
        const [c, e] = [cosine(ours.gradients[i], theirs.gradients[i]), maxRelativeError(ours.gradients[i], theirs.gradients[i])];
        return c > 0.99999 && e < 1e-4 ? [] : [`${p.name}: cosine ${c}, max relative error ${e}`];
      });
      expect(off).toEqual([]);
    } finally {
      onnx.dispose();
      tfjs.dispose();
    }
  }, 120_000);
});
