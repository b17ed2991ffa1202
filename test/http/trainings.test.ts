import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { readImagenetSamples } from '../../scripts/imagenet-samples';
import { startTinyApp } from '../helpers/app';
import { testDataPath } from '../helpers/data';

// Validation; a training of ResNet50's dense layer end to end: test/system/http/trainings.test.ts.
const samples = readImagenetSamples(testDataPath('imagenet-samples')).filter((_, i) => i % 17 === 0);
const labelsMap = JSON.stringify(Object.fromEntries(samples.map((s) => [s.name, s.classIndex])));
const KEY = 'key-a';

describe('POST /v1/trainings: validation (tiny engine)', () => {
  let app: FastifyInstance;
  const fields = { labels: labelsMap, name: 'robust-fc', trainable: 'fc', epochs: '2', batchSize: '4', learningRate: '1e-3', holdout: '0.34', seed: '3', epsilon: '1/255' };
  beforeAll(async () => {
    app = await startTinyApp({ ADVPROBE_API_KEYS: KEY });
  });
  afterAll(() => app?.close());

  it('refuses bad names and settings with a 4xx before accepting', async () => {
    const bad = async (extra: Record<string, string>, status: number, code: string) => {
      let r = request(app.server).post('/v1/trainings').set({ authorization: `Bearer ${KEY}` });
      for (const [k, v] of Object.entries({ ...fields, ...extra })) r = r.field(k, v);
      for (const s of samples) r = r.attach('image', s.data, s.name);
      const res = await r.expect(status);
      expect(res.body.error.code).toBe(code);
    };
    await bad({ name: '../x' }, 400, 'invalid_parameter');
    await bad({ model: '../x' }, 400, 'invalid_parameter');
    await bad({ model: 'nope' }, 404, 'model_not_found');
    await bad({ trainable: 'some' }, 400, 'invalid_parameter');
    await bad({ learningRate: '0' }, 400, 'invalid_parameter');
    await bad({ holdout: '1' }, 400, 'invalid_parameter');
    await bad({ epochs: '100', attackSteps: '50' }, 400, 'budget_exceeded');
  });
});
