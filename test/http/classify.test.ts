import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { startTinyApp } from '../helpers/app';
import { PIG, readTestFile } from '../helpers/data';
import { hugePngHeader } from '../helpers/images';
import { gatedEngine, tinyResNetShapedEngine } from '../helpers/tiny-engine';
import { waitFor } from '../helpers/wait';

const pig = readTestFile(...PIG);

describe('POST /v1/classify: validation and limits (tiny engine)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startTinyApp();
  });
  afterAll(() => app?.close());

  const expectHealthy = async () => {
    await request(app.server).get('/healthz').expect(200, { status: 'ok' });
    expect((await request(app.server).get('/readyz')).status).toBe(200);
  };

  const bad: [string, (r: request.Test) => request.Test, number, string][] = [
    ['no body', (r) => r, 400, 'missing_image'],
    ['an empty file', (r) => r.attach('image', Buffer.alloc(0), 'empty.jpg'), 400, 'empty_image'],
    ['a text file named .jpg', (r) => r.attach('image', Buffer.from('hello, I am text'), 'text.jpg'), 415, 'unsupported_image_format'],
    ['a truncated JPEG', (r) => r.attach('image', pig.subarray(0, 20000), 'half.jpg'), 400, 'invalid_image'],
    ['a 20000×20000 PNG', (r) => r.attach('image', hugePngHeader(20000, 20000), 'bomb.png'), 413, 'image_too_large'],
    ['a wrong field name', (r) => r.attach('file', pig, 'pig.jpg'), 400, 'unexpected_file'],
    ['two images', (r) => r.attach('image', pig, 'a.jpg').attach('image', pig, 'b.jpg'), 400, 'too_many_files'],
    ['topk 0', (r) => r.field('topk', '0').attach('image', pig, 'pig.jpg'), 400, 'invalid_parameter'],
    ['topk 1001', (r) => r.field('topk', '1001').attach('image', pig, 'pig.jpg'), 400, 'invalid_parameter'],
    ['topk "abc"', (r) => r.field('topk', 'abc').attach('image', pig, 'pig.jpg'), 400, 'invalid_parameter'],
    ['an unknown field', (r) => r.field('topK', '3').attach('image', pig, 'pig.jpg'), 400, 'unknown_field'],
    ['a repeated field', (r) => r.field('topk', '3').field('topk', '4').attach('image', pig, 'pig.jpg'), 400, 'duplicate_field'],
    ['JSON instead of an image', (r) => r.set('Content-Type', 'application/json').send('{"image":"x"}'), 415, 'unsupported_media_type'],
  ];
  it.each(bad)('answers %s with a 4xx JSON error and stays healthy', async (_name, build, status, code) => {
    const res = await build(request(app.server).post('/v1/classify'));
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toEqual(expect.any(String));
    await expectHealthy();
  });

  it.each([
    ['topk=0', 'topk'],
    ['topk=1001', 'topk'],
    ['topk=abc', 'topk'],
    ['topk=3&verbose=1', 'verbose'],
  ])('rejects the query %s, naming the field', async (query, field) => {
    const res = await request(app.server).post(`/v1/classify?${query}`).set('Content-Type', 'image/jpeg').send(pig).expect(400);
    expect(res.body.error.message).toContain(field);
  });

  it('answers an upload over ADVPROBE_MAX_UPLOAD_BYTES with 413', async () => {
    const small = await startTinyApp({ ADVPROBE_MAX_UPLOAD_BYTES: 10_000 });
    try {
      const multi = await request(small.server).post('/v1/classify').attach('image', pig, 'pig.jpg').expect(413);
      expect(multi.body.error.code).toBe('payload_too_large');
      const raw = await request(small.server).post('/v1/classify').set('Content-Type', 'image/jpeg').send(pig).expect(413);
      expect(raw.body.error.code).toBe('payload_too_large');
    } finally {
      await small.close();
    }
  });

  it('answers /healthz while the model is busy, and 503 + Retry-After when the queue is full', async () => {
    // One job at a time (no batching) on a model that holds its first call until opened:
    // one job runs, one waits and the rest are refused.
    const engine = gatedEngine();
    const busy = await startTinyApp({ ADVPROBE_QUEUE_SIZE: 1, ADVPROBE_MAX_BATCH: 1 }, { engine: async () => engine });
    try {
      const settled: request.Response[] = [];
      const inflight = Array.from({ length: 5 }, () =>
        request(busy.server)
          .post('/v1/classify')
          .attach('image', pig, 'pig.jpg')
          .then((r) => (settled.push(r), r)),
      );
      await waitFor(async () => engine.calls > 0 && settled.length === 3);
      await request(busy.server).get('/healthz').expect(200);
      engine.open();
      const statuses = (await Promise.all(inflight)).map((r) => r.status);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2); // one running, one waiting
      const full = (await Promise.all(inflight)).find((r) => r.status === 503);
      expect(full?.body.error.code).toBe('queue_full');
      expect(full?.headers['retry-after']).toMatch(/^\d+$/);
    } finally {
      engine.open();
      await busy.close();
    }
  });
});

describe('service endpoints (tiny engine)', () => {
  it('/readyz is 503 while the model loads, then 200 with the backend', async () => {
    let loaded!: () => void;
    const loading = new Promise<void>((resolve) => (loaded = resolve));
    const app = await startTinyApp({}, { engine: async () => (await loading, tinyResNetShapedEngine()), waitReady: false });
    try {
      const before = await request(app.server).get('/readyz').expect(503);
      expect(before.body).toMatchObject({ status: 'loading', backend: null });
      const refused = await request(app.server).post('/v1/classify').attach('image', pig, 'pig.jpg').expect(503);
      expect(refused.body.error.code).toBe('not_ready');
      expect(refused.headers['retry-after']).toBeDefined();
      loaded();
      await app.model.whenReady();
      await request(app.server).get('/readyz').expect(200, { status: 'ready', role: 'all', model: 'resnet50', backend: 'cpu', queueLength: 0 });
    } finally {
      loaded();
      await app.close();
    }
  });

  describe('on a ready app', () => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await startTinyApp();
    });
    afterAll(() => app?.close());

    it('/v1/models describes the model', async () => {
      const res = await request(app.server).get('/v1/models').expect(200);
      expect(res.body.models[0]).toMatchObject({
        name: 'resnet50',
        input: { height: 224, width: 224, channels: 3, range: [0, 1] },
        preprocessing: { scale: 255, channelOrder: 'BGR', mean: [103.939, 116.779, 123.68] },
        numClasses: 1000,
      });
    });

    it('unknown routes are JSON 404s', async () => {
      const res = await request(app.server).get('/v1/nothing').expect(404);
      expect(res.body.error.code).toBe('not_found');
    });
  });
});
