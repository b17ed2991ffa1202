import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import type { Config } from '../../src/config';
import { postAttack } from '../helpers/attack-checks';
import { PIG, readTestFile } from '../helpers/data';
import { startTinyApp } from '../helpers/app';
import { slowEngine } from '../helpers/tiny-engine';
import { waitFor } from '../helpers/wait';

/**
 * A synchronous request waits at most ADVPROBE_SYNC_WAIT_MS or the client's `Prefer: wait=N`;
 * past it an attack answers 202 with its job's Location and runs on (issue 27, item 5).
 * Each model call of the tiny engine takes at least STEP_MS, so a LONG attack takes over 2.5 s
 * (and far more on a loaded host: the waits below are generous).
 */
const pig = readTestFile(...PIG);
const STEP_MS = 250;
const LONG = { steps: '10', images: 'none' };
const SHORT = { steps: '3', images: 'none' };
const startSlowApp = (overrides: Partial<Config> = {}): Promise<FastifyInstance> => startTinyApp(overrides, { engine: async () => slowEngine(STEP_MS) });

async function expectSucceedsAt(app: FastifyInstance, location: string): Promise<void> {
  let status = '';
  await waitFor(async () => {
    status = ((await request(app.server).get(location).expect(200)).body as { status: string }).status;
    return status !== 'queued' && status !== 'running';
  }, 120_000);
  expect(status).toBe('succeeded');
  const job = (await request(app.server).get(location).expect(200)).body as { result?: unknown };
  expect(job.result).toBeDefined();
}

describe('the synchronous wait (ADVPROBE_SYNC_WAIT_MS = 300)', () => {
  let app: FastifyInstance;
  beforeAll(async () => void (app = await startSlowApp({ ADVPROBE_SYNC_WAIT_MS: 300 })));
  afterAll(async () => app?.close());

  test('an attack that outlasts it answers 202 with its Location, and the job succeeds there', async () => {
    const res = await postAttack(app, pig, SHORT).expect(202);
    const { id, status, location } = res.body as { id: string; status: string; location: string };
    expect(location).toBe(`/v1/jobs/${id}`);
    expect(res.headers.location).toBe(location);
    expect(['queued', 'running']).toContain(status);
    expect(res.headers['preference-applied']).toBeUndefined();
    await expectSucceedsAt(app, location);
  });

  test('a classify that outlasts it answers 503 job_timeout with Retry-After (no route to follow)', async () => {
    const res = await request(app.server).post('/v1/classify').set('prefer', 'wait=0').attach('image', pig, 'pig.jpg').expect(503);
    expect((res.body as { error: { code: string } }).error.code).toBe('job_timeout');
    expect(res.headers['retry-after']).toBeDefined();
  });
});

describe('Prefer: wait=N under the default wait (55 s)', () => {
  let app: FastifyInstance;
  beforeAll(async () => void (app = await startSlowApp()));
  afterAll(async () => app?.close());

  test.each([1, 2])('wait=%i: past it, 202 with the Location and Preference-Applied; the job succeeds', async (seconds) => {
    const started = Date.now();
    const res = await postAttack(app, pig, LONG).set('Prefer', `wait=${seconds}`).expect(202);
    // Not a benchmark: a 202 before the client's wait would not have waited at all.
    expect(Date.now() - started).toBeGreaterThanOrEqual(seconds * 1000 - 50);
    expect(res.headers['preference-applied']).toBe(`wait=${seconds}`);
    await expectSucceedsAt(app, res.headers.location as string);
  });

  test('a job that ends within the wait answers 200, with Preference-Applied: wait', async () => {
    const res = await postAttack(app, pig, { steps: '1', images: 'none' }).set('Prefer', 'wait=20').expect(200);
    expect(res.headers['preference-applied']).toBe('wait=20');
    expect(res.body).toHaveProperty('attack');
  });

  test('respond-async alone answers 202 at once; with a wait, 202 after it', async () => {
    const now = await postAttack(app, pig, SHORT).set('Prefer', 'respond-async').expect(202);
    expect(now.headers['preference-applied']).toBe('respond-async');
    const later = await postAttack(app, pig, LONG).set('Prefer', 'respond-async, wait=1').expect(202);
    expect(later.headers['preference-applied']).toBe('respond-async, wait=1');
    await expectSucceedsAt(app, later.headers.location as string);
  });

  test('a wait above the server\'s own is not applied', async () => {
    const res = await postAttack(app, pig, { steps: '1', images: 'none' }).set('Prefer', 'wait=600').expect(200);
    expect(res.headers['preference-applied']).toBeUndefined();
  });
});
