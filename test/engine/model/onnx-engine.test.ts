import sharp from 'sharp';
import { loadConfig } from '../../../src/config';
import type { ClassifierEngine, LossCoefficients } from '../../../src/model/engine';
import { readManifest } from '../../../src/model/manifest';
import { loadOnnxEngine } from '../../../src/model/onnx/onnx-engine';
import { loadTfjsEngine } from '../../../src/model/tfjs-engine';
import { PIG, testDataPath } from '../../helpers/data';
import { cosine, maxRelativeError } from '../../helpers/numeric';

// The engine on the small random network (every layer kind against TensorFlow.js): test/unit/model/onnx-engine.test.ts.
describe('ONNX Runtime engine on ResNet50, against the TensorFlow.js engine', () => {
  const HOG = 341;
  const AIRLINER = 404;
  const TENCH = 0;
  const SIZE = 224 * 224 * 3;
  const { ADVPROBE_MODELS_DIR: modelsDir } = loadConfig();
  const manifest = readManifest(modelsDir, 'resnet50');
  let onnx: ClassifierEngine;
  let wasm: ClassifierEngine;
  let images: Float32Array;

  const pixels = async (file: string): Promise<Float32Array> => {
    const { data } = await sharp(file).resize(224, 224, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return Float32Array.from(data, (v) => v / 255);
  };

  beforeAll(async () => {
    onnx = await loadOnnxEngine({ modelsDir, manifest });
    wasm = await loadTfjsEngine({ modelsDir, manifest, backend: 'wasm' });
    const files = [testDataPath(...PIG), testDataPath('imagenet-samples', 'n01601694_water_ouzel.JPEG'), testDataPath('imagenet-samples', 'n01440764_tench.JPEG')];
    images = new Float32Array(SIZE * files.length);
    for (const [i, file] of files.entries()) images.set(await pixels(file), i * SIZE);
  });
  afterAll(() => {
    onnx.dispose();
    wasm.dispose();
  });

  it('reports its backend and calls the pig a hog', async () => {
    expect(onnx.info.backend).toBe('onnxruntime');
    const logits = await onnx.logits({ data: images.subarray(0, SIZE), count: 1 });
    expect(logits.indexOf(Math.max(...logits))).toBe(HOG);
  });

  it('gives the same logits, loss and input gradient for a batch (targeted CE difference and a logit margin)', async () => {
    // Pig: log p(airliner) − log p(hog); ouzel: the margin z_airliner − z_tench; tench: its CE.
    const loss: LossCoefficients = { a: new Float32Array(3000), b: new Float32Array(3000) };
    loss.a[AIRLINER] = 1;
    loss.a[HOG] = -1;
    loss.b[1000 + AIRLINER] = 1;
    loss.b[1000 + TENCH] = -1;
    loss.a[2000 + TENCH] = -1;
    const batch = { data: images, count: 3 };
    const [ours, reference] = [await onnx.lossGradient(batch, loss), await wasm.lossGradient(batch, loss)];
    expect(maxRelativeError(ours.logits, reference.logits)).toBeLessThan(1e-4);
    expect(maxRelativeError(ours.loss, reference.loss)).toBeLessThan(1e-4);
    expect(maxRelativeError(await onnx.logits(batch), reference.logits)).toBeLessThan(1e-4);
    const gradientOf = (g: Float32Array, sample: number) => g.subarray(sample * SIZE, (sample + 1) * SIZE);
    for (const sample of [0, 1, 2]) expect(cosine(gradientOf(ours.gradient, sample), gradientOf(reference.gradient, sample))).toBeGreaterThan(0.999);
    // Element-wise, the engines agree except around ReLUs and max-pools that sit within float
    // rounding of their switching point, which the two engines' different rounding (each
    // fuses conv, bias and ReLU its own way) flips: flat image regions hold many. Measured:
    // 98.9 %, 99.99 % and 99.1 % of the values within 1e-3 of the largest.
    for (const sample of [0, 1, 2]) {
      const [o, r] = [gradientOf(ours.gradient, sample), gradientOf(reference.gradient, sample)];
      const scale = r.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const close = o.filter((v, i) => Math.abs(v - r[i]) <= 1e-3 * scale).length;
      expect(close / o.length).toBeGreaterThan(0.98);
    }
  });
});
