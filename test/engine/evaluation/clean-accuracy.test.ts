import { loadConfig } from '../../../src/config';
import { cleanAccuracy } from '../../../src/evaluation/clean-accuracy';
import { decodeToModelInput } from '../../../src/images/decode';
import { toUnit } from '../../../src/images/unit-pixels';
import type { ClassifierEngine } from '../../../src/model/engine';
import { readLabels } from '../../../src/model/labels';
import { loadEngine } from '../../../src/model/load-engine';
import { modelFolder, readManifest } from '../../../src/model/manifest';
import { softmax, topK } from '../../../src/model/predictions';
import { readImagenetSamples } from '../../../scripts/imagenet-samples';
import { TEST_BACKEND } from '../../helpers/app';
import { testDataPath } from '../../helpers/data';
import path from 'node:path';

describe('clean accuracy on the 100 ImageNet samples (real ResNet50)', () => {
  const { ADVPROBE_MODELS_DIR: modelsDir } = loadConfig();
  const manifest = readManifest(modelsDir, 'resnet50');
  const labels = readLabels(path.join(modelFolder(modelsDir, manifest), manifest.labelsFile), manifest.numClasses);
  let engine: ClassifierEngine;
  beforeAll(async () => {
    ({ engine } = await loadEngine({ modelsDir, manifest, backend: TEST_BACKEND }));
  });
  afterAll(() => engine?.dispose());

  it('reaches top-1 ≥ 0.75 and top-5 ≥ 0.90', async () => {
    const images = readImagenetSamples(testDataPath('imagenet-samples'));
    expect(images).toHaveLength(100);
    const result = await cleanAccuracy(images, async (data) => {
      const input = await decodeToModelInput(data, { width: 224, height: 224, resize: 'crop', maxInputPixels: 50_000_000 });
      return topK(softmax(await engine.logits({ data: toUnit(input.pixels), count: 1 })), labels, 5);
    });
    expect(result.top1).toBeGreaterThanOrEqual(0.75);
    expect(result.top5).toBeGreaterThanOrEqual(0.9);
  });
});
