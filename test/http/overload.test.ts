import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { startTinyApp } from '../helpers/app';
import { PIG, readTestFile } from '../helpers/data';
import { waitFor } from '../helpers/wait';

/**
 * Event-loop stalls: liveness stays 200 (a busy process is not a dead one: an orchestrator
 * would restart it), readiness says overloaded, and new work gets 503 overloaded + Retry-After.
 */
const pig = readTestFile(...PIG);

/** Blocks the event loop 400 ms out of every ~410 until stopped. */
function stallEventLoop(): () => void {
  const timer = setInterval(() => {
    const until = Date.now() + 400;
    while (Date.now() < until);
  }, 10);
  return () => clearInterval(timer);
}

describe('event-loop stalls', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    // Above what a loaded test host's scheduling adds, far below the stalls.
    app = await startTinyApp({ ADVPROBE_MAX_EVENT_LOOP_DELAY_MS: 200 });
  });
  afterAll(() => app?.close());

  it('/healthz (and /v2/health/live) stays 200; /readyz (and /v2 readiness) and new work answer 503 overloaded', async () => {
    // Starting up (on a shared machine) may itself lag the loop: wait for calm.
    await waitFor(async () => (await request(app.server).get('/readyz')).status === 200, 20_000);
    const resume = stallEventLoop();
    try {
      await waitFor(async () => app.isUnderPressure(), 20_000);
      const health = await request(app.server).get('/healthz');
      expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: { status: 'ok' } });
      const ready = await request(app.server).get('/readyz');
      expect({ status: ready.status, state: ready.body.status }).toEqual({ status: 503, state: 'overloaded' });
      // The Open Inference Protocol's probes say the same.
      expect((await request(app.server).get('/v2/health/live')).status).toBe(200);
      expect((await request(app.server).get('/v2/health/ready')).body).toEqual({ ready: false });
      expect((await request(app.server).get('/v2/models/resnet50/ready')).status).toBe(503);
      const work = await request(app.server).post('/v1/classify').attach('image', pig, 'pig.jpg');
      expect({ status: work.status, code: work.body.error?.code, retryAfter: work.headers['retry-after'] }).toEqual({ status: 503, code: 'overloaded', retryAfter: '5' });
    } finally {
      resume();
    }
    await waitFor(async () => !app.isUnderPressure(), 20_000);
    const ready = await request(app.server).get('/readyz');
    expect({ status: ready.status, state: ready.body.status }).toEqual({ status: 200, state: 'ready' });
    expect((await request(app.server).get('/v2/health/ready')).body).toEqual({ ready: true });
  });
});
