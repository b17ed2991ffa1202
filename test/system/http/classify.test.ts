import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { startApp, TEST_BACKEND } from '../../helpers/app';
import { PIG, readTestFile } from '../../helpers/data';

// End to end on the real model; validation, limits and the service endpoints: test/http/classify.test.ts.
const pig = readTestFile(...PIG);

describe('POST /v1/classify (real ResNet50)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app?.close());

  it('is ready on the configured backend and calls the pig a hog (multipart)', async () => {
    await request(app.server).get('/readyz').expect(200, { status: 'ready', role: 'all', model: 'resnet50', backend: TEST_BACKEND, queueLength: 0 });
    const res = await request(app.server).post('/v1/classify').attach('image', pig, 'pig.jpg').expect(200);
    expect(res.body).toMatchObject({ model: 'resnet50', backend: TEST_BACKEND });
    expect(res.body.predictions).toHaveLength(5);
    expect(res.body.predictions[0]).toMatchObject({ classIndex: 341, label: 'hog' });
    expect(res.body.predictions[0].probability).toBeGreaterThan(0.9);
    expect(res.body.timingMs.total).toBeGreaterThanOrEqual(res.body.timingMs.compute);
  });

  it('takes a raw image body with ?topk= and a multipart topk field', async () => {
    const raw = await request(app.server).post('/v1/classify?topk=2').set('Content-Type', 'image/jpeg').send(pig).expect(200);
    expect(raw.body.predictions.map((p: { label: string }) => p.label)).toEqual(['hog', 'wild_boar']);
    const multi = await request(app.server).post('/v1/classify').field('topk', '1000').attach('image', pig, 'pig.jpg').expect(200);
    expect(multi.body.predictions).toHaveLength(1000);
    const sum = multi.body.predictions.reduce((s: number, p: { probability: number }) => s + p.probability, 0);
    expect(sum).toBeCloseTo(1, 4);
  });

  it('holds no more tensors in the worker after requests than before', async () => {
    const before = await app.model.tensorCount();
    await request(app.server).post('/v1/classify').attach('image', pig, 'pig.jpg').expect(200);
    await request(app.server).post('/v1/classify').attach('image', Buffer.from('nope'), 'x.jpg').expect(415);
    expect(await app.model.tensorCount()).toBe(before);
  });
});
