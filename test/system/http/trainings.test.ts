import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import type { TrainingResult } from '../../../src/contract/training-schemas';
import { readImagenetSamples } from '../../../scripts/imagenet-samples';
import { startApp } from '../../helpers/app';
import { PIG, readTestFile, testDataPath } from '../../helpers/data';
import { tempModelsDir } from '../../helpers/models';
import { waitFor } from '../../helpers/wait';

// Six ImageNet samples: a few seconds of training of the dense layer on ONNX Runtime.
const samples = readImagenetSamples(testDataPath('imagenet-samples')).filter((_, i) => i % 17 === 0);
const labelsMap = JSON.stringify(Object.fromEntries(samples.map((s) => [s.name, s.classIndex])));
const KEYS = { a: 'key-a', b: 'key-b' };
const as = (key: string) => ({ authorization: `Bearer ${key}` });

function post(app: FastifyInstance, key: string, fields: Record<string, string>, files = samples) {
  let r = request(app.server).post('/v1/trainings').set(as(key));
  for (const [k, v] of Object.entries(fields)) r = r.field(k, v);
  for (const s of files) r = r.attach('image', s.data, s.name);
  return r;
}

async function finished(app: FastifyInstance, key: string, id: string): Promise<{ status: string; result?: TrainingResult; error?: { code: string } }> {
  await waitFor(async () => ['succeeded', 'failed', 'cancelled'].includes((await request(app.server).get(`/v1/trainings/${id}`).set(as(key))).body.status), 300_000);
  return (await request(app.server).get(`/v1/trainings/${id}`).set(as(key))).body;
}

// Validation: test/http/trainings.test.ts.
describe('POST /v1/trainings (real ResNet50 on ONNX Runtime, six ImageNet samples)', () => {
  let app: FastifyInstance;
  let modelsDir: string;
  let result: TrainingResult;
  const fields = { labels: labelsMap, name: 'robust-fc', trainable: 'fc', epochs: '2', batchSize: '4', learningRate: '1e-3', holdout: '0.34', seed: '3', epsilon: '1/255' };

  beforeAll(async () => {
    modelsDir = tempModelsDir();
    app = await startApp({ ADVPROBE_MODELS_DIR: modelsDir, ADVPROBE_API_KEYS: `${KEYS.a},${KEYS.b}` });
    const accepted = await post(app, KEYS.a, fields).expect(202);
    expect(accepted.headers.location).toBe(`/v1/trainings/${accepted.body.id}`);
    // The events: scoring, then a loss per batch and figures per epoch.
    const events = await request(app.server).get(`/v1/trainings/${accepted.body.id}/events`).set(as(KEYS.a)).buffer(true).parse((res, done) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => done(null, text));
    });
    const data = String(events.body)
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { phase?: string });
    expect(data.filter((d) => d.phase === 'training').length).toBe(2); // 4 images in batches of 4, 2 epochs
    expect(data.filter((d) => d.phase === 'epoch').length).toBe(2);
    const done = await finished(app, KEYS.a, accepted.body.id);
    expect(done.error).toBeUndefined();
    expect(done.status).toBe('succeeded');
    result = done.result!;
  }, 600_000);
  afterAll(async () => {
    await app?.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('reports both splits before and after, the curve and the new model', () => {
    expect(result.split.train).toHaveLength(4);
    expect(result.split.holdout).toHaveLength(2);
    expect(result.before.train.count).toBe(4);
    expect(result.before.holdout?.count).toBe(2);
    expect(result.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    for (const scores of [result.before.train, result.after.train]) {
      expect(scores.robustAccuracy).toBeLessThanOrEqual(scores.cleanAccuracy);
      expect(scores.adversarialRisk).toBeGreaterThanOrEqual(scores.empiricalRisk);
    }
    // Fine-tuning the dense layer on its own adversarial examples lowers their risk.
    expect(result.after.train.adversarialRisk).toBeLessThan(result.before.train.adversarialRisk);
    expect(result.settings).toMatchObject({ name: 'robust-fc', model: 'resnet50', trainable: 'fc', attackSteps: 3, epochs: 2, seed: 3, epsilon255: 1 });
    expect(result.model).toMatchObject({ name: 'robust-fc', source: { type: 'training', from: 'resnet50', job: result.id } });
  });

  it('lists the model for its key only, serves it by name, and deletes it', async () => {
    const mine = await request(app.server).get('/v1/models').set(as(KEYS.a)).expect(200);
    expect(mine.body.models.map((m: { name: string }) => m.name)).toEqual(['resnet50', 'robust-fc']);
    const theirs = await request(app.server).get('/v1/models').set(as(KEYS.b)).expect(200);
    expect(theirs.body.models.map((m: { name: string }) => m.name)).toEqual(['resnet50']);

    // A training image: its class's column of the dense layer moved.
    const image = samples.find((s) => s.name === result.split.train[0])!;
    const base = await request(app.server).post('/v1/classify?topk=1000').set(as(KEYS.a)).attach('image', image.data, image.name).expect(200);
    const trained = await request(app.server).post('/v1/classify?model=robust-fc&topk=1000').set(as(KEYS.a)).attach('image', image.data, image.name).expect(200);
    expect(trained.body.model).toBe('robust-fc');
    const probabilityOf = (body: { predictions: { classIndex: number; probability: number }[] }) => body.predictions.find((p) => p.classIndex === image.classIndex)!.probability;
    expect(Math.abs(probabilityOf(trained.body) - probabilityOf(base.body))).toBeGreaterThan(1e-4);
    await request(app.server).post('/v1/classify?model=robust-fc').set(as(KEYS.b)).attach('image', readTestFile(...PIG), 'pig.jpg').expect(404);
    const attack = await request(app.server).post('/v1/attacks').set(as(KEYS.a)).field('model', 'robust-fc').field('steps', '2').field('images', 'none').attach('image', image.data, image.name).expect(200);
    expect(attack.body.original.predictions[0]).toMatchObject({ label: trained.body.predictions[0].label, probability: expect.closeTo(trained.body.predictions[0].probability, 5) });

    // Fine-tuning a fine-tuned model works; a taken name is a 409.
    await post(app, KEYS.a, { ...fields, name: 'robust-fc' }).expect(409);
    // On two of the images, all trained on: a third of the first training's scoring work.
    const two = samples.slice(0, 2);
    const twoLabels = JSON.stringify(Object.fromEntries(two.map((s) => [s.name, s.classIndex])));
    const again = await post(app, KEYS.a, { ...fields, labels: twoLabels, name: 'robust-fc-2', model: 'robust-fc', epochs: '1', holdout: '0' }, two).expect(202);
    const second = await finished(app, KEYS.a, again.body.id);
    expect(second.status).toBe('succeeded');
    expect(second.result?.model.source.from).toBe('robust-fc');

    // A restart keeps the models (they live on disk).
    await app.close();
    app = await startApp({ ADVPROBE_MODELS_DIR: modelsDir, ADVPROBE_API_KEYS: `${KEYS.a},${KEYS.b}` });
    const listed = await request(app.server).get('/v1/models').set(as(KEYS.a)).expect(200);
    expect(listed.body.models.map((m: { name: string }) => m.name)).toEqual(['resnet50', 'robust-fc', 'robust-fc-2']);

    await request(app.server).delete('/v1/models/resnet50').set(as(KEYS.a)).expect(409);
    await request(app.server).delete('/v1/models/robust-fc').set(as(KEYS.b)).expect(404);
    await request(app.server).delete('/v1/models/robust-fc').set(as(KEYS.a)).expect(200);
    await request(app.server).post('/v1/classify?model=robust-fc').set(as(KEYS.a)).attach('image', readTestFile(...PIG), 'pig.jpg').expect(404);
    expect(existsSync(path.join(modelsDir, 'trained'))).toBe(true);
  }, 300_000);

  it('cancels a running training: it ends cancelled and saves no model', async () => {
    const accepted = await post(app, KEYS.a, { ...fields, name: 'never', trainable: 'all', epochs: '20' }).expect(202);
    await waitFor(async () => (await request(app.server).get(`/v1/trainings/${accepted.body.id}`).set(as(KEYS.a))).body.status === 'running', 60_000);
    await request(app.server).delete(`/v1/trainings/${accepted.body.id}`).set(as(KEYS.b)).expect(404);
    await request(app.server).delete(`/v1/trainings/${accepted.body.id}`).set(as(KEYS.a)).expect(200);
    const done = await finished(app, KEYS.a, accepted.body.id);
    expect(done.status).toBe('cancelled');
    const models = await request(app.server).get('/v1/models').set(as(KEYS.a)).expect(200);
    expect(models.body.models.map((m: { name: string }) => m.name)).not.toContain('never');
  }, 120_000);
});
