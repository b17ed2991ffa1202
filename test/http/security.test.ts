import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { startTinyApp } from '../helpers/app';
import { PIG, readTestFile } from '../helpers/data';

const pig = readTestFile(...PIG);

describe('API keys, job ownership, rate limit and metrics', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    // Auth, ownership and limits are the point: a tiny engine of ResNet50's shapes stands in for it.
    app = await startTinyApp({ ADVPROBE_API_KEYS: 'alpha-key, beta-key', ADVPROBE_RATE_LIMIT: 40 });
  });
  afterAll(() => app?.close());

  it('answers 401 JSON without a key or with a wrong one; takes Bearer and X-API-Key', async () => {
    for (const headers of [{}, { 'x-api-key': 'wrong' }, { authorization: 'Bearer alpha-key-but-longer' }, { authorization: 'Basic alpha-key' }]) {
      const res = await request(app.server).post('/v1/classify').set(headers).attach('image', pig, 'pig.jpg').expect(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    await request(app.server).get('/v1/models').set('x-api-key', 'beta-key').expect(200);
    const ok = await request(app.server).post('/v1/classify').set('authorization', 'Bearer alpha-key').attach('image', pig, 'pig.jpg').expect(200);
    expect(ok.body.predictions).toHaveLength(5);
  });

  it('keeps health, readiness, docs and the playground public, and protects /metrics', async () => {
    for (const path of ['/healthz', '/readyz', '/', '/openapi.yaml']) await request(app.server).get(path).expect(200);
    await request(app.server).get('/docs').redirects(1).expect(200);
    await request(app.server).get('/metrics').expect(401);
    await request(app.server).get('/v1/nothing').expect(401); // routes are not revealed to strangers either
  });

  it('shows a job only to the key that made it', async () => {
    const made = await request(app.server)
      .post('/v1/attacks')
      .set('x-api-key', 'alpha-key')
      .set('prefer', 'respond-async')
      .field('steps', '1')
      .field('quantize', 'round')
      .attach('image', pig, 'pig.jpg')
      .expect(202);
    const id = made.body.id as string;
    for (const path of ['', '/events', '/adversarial.png']) {
      const res = await request(app.server).get(`/v1/jobs/${id}${path}`).set('x-api-key', 'beta-key').expect(404);
      expect(res.body.error.code).toBe('job_not_found');
    }
    await request(app.server).delete(`/v1/jobs/${id}`).set('x-api-key', 'beta-key').expect(404);
    const own = await request(app.server).get(`/v1/jobs/${id}`).set('x-api-key', 'alpha-key').expect(200);
    expect(own.body.id).toBe(id);
  });

  it('exposes Prometheus metrics to key holders', async () => {
    const res = await request(app.server).get('/metrics').set('x-api-key', 'alpha-key').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    for (const name of [
      'advprobe_http_requests_total{method="POST",route="/v1/classify",status_code="200"}',
      'advprobe_http_request_duration_seconds_bucket',
      'advprobe_queue_length 0',
      'advprobe_queue_wait_seconds_count{type="classify"}',
      'advprobe_compute_seconds_count{type="classify"}',
      'advprobe_batch_size_count{kind="forward"}',
      'advprobe_jobs_total{type="classify",status="succeeded"}',
      'advprobe_model_tensors',
      `advprobe_backend_info{model="resnet50",backend="cpu",status="ready"} 1`,
      'advprobe_process_resident_memory_bytes',
    ]) {
      expect(res.text).toContain(name);
    }
  });

  it('rate-limits each key: 429 JSON with Retry-After, health exempt', async () => {
    let limited: request.Response | undefined;
    for (let i = 0; i < 60 && !limited; i++) {
      const res = await request(app.server).get('/v1/models').set('x-api-key', 'beta-key');
      if (res.status === 429) limited = res;
    }
    expect(limited?.body.error.code).toBe('rate_limited');
    expect(limited?.headers['retry-after']).toMatch(/^\d+$/);
    await request(app.server).get('/v1/models').set('x-api-key', 'alpha-key').expect(200); // another key, another budget
    await request(app.server).get('/healthz').expect(200);
  });
});
