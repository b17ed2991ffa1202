import type { FastifyInstance } from 'fastify';
import { cleanAccuracy } from '../../../src/evaluation/clean-accuracy';
import { decodeToModelInput } from '../../../src/images/decode';
import { readImagenetSamples } from '../../../scripts/imagenet-samples';
import { startApp } from '../../helpers/app';
import { testDataPath } from '../../helpers/data';

describe('clean accuracy on the 100 ImageNet samples (real ResNet50)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app?.close());

  it('reaches top-1 ≥ 0.75 and top-5 ≥ 0.90', async () => {
    const images = readImagenetSamples(testDataPath('imagenet-samples'));
    expect(images).toHaveLength(100);
    const result = await cleanAccuracy(images, async (data) => {
      const input = await decodeToModelInput(data, { width: 224, height: 224, resize: 'crop', maxInputPixels: 50_000_000 });
      return (await app.model.classify(input.pixels, 5)).predictions;
    });
    expect(result.top1).toBeGreaterThanOrEqual(0.75);
    expect(result.top5).toBeGreaterThanOrEqual(0.9);
  });
});
