import { spawn } from 'node:child_process';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { startApp } from '../../helpers/app';
import { PIG, readTestFile } from '../../helpers/data';
import { waitFor } from '../../helpers/wait';

const pig = readTestFile(...PIG);


describe('the model worker dies mid-job', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    // One job at a time, so the second job really waits in the queue (jobs batched together
    // in a worker that dies fail with it, each with worker_crashed).
    app = await startApp({ ADVPROBE_TEST_HOOKS: true, ADVPROBE_MAX_BATCH: 1 });
  });
  afterAll(() => app?.close());

  it('fails that job clearly, restarts the worker, and runs the next job', async () => {
    const submit = (steps: string) =>
      request(app.server).post('/v1/attacks').set('prefer', 'respond-async').field('steps', steps).field('quantize', 'round').field('images', 'none').attach('image', pig, 'pig.jpg').expect(202);
    const victim = (await submit('100')).body.id as string;
    const next = (await submit('2')).body.id as string; // waiting behind it: must not be lost
    await waitFor(async () => ((await request(app.server).get(`/v1/jobs/${victim}`)).body.progress?.step ?? -1) >= 1);
    app.model.crashWorkerForTest();
    await waitFor(async () => (await request(app.server).get(`/v1/jobs/${victim}`)).body.status === 'failed');
    const failed = await request(app.server).get(`/v1/jobs/${victim}`).expect(200);
    expect(failed.body.error).toMatchObject({ code: 'worker_crashed', message: expect.stringContaining('model worker stopped') });
    await request(app.server).get('/healthz').expect(200); // the process lives on
    await waitFor(async () => (await request(app.server).get(`/v1/jobs/${next}`)).body.status === 'succeeded', 90_000);
    const classified = await request(app.server).post('/v1/classify').attach('image', pig, 'pig.jpg').expect(200);
    expect(classified.body.predictions[0].label).toBe('hog');
  });
});

describe('SIGTERM', () => {
  it('stops accepting, fails running and queued jobs explicitly after the grace period, and exits 0', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const base = `http://127.0.0.1:${port}`;
    const server = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(__dirname, '..', '..', '..', 'src', 'server.ts')], {
      // wasm: the one end-to-end run of that engine (its own tests: test/engine/); one worker
      // thread instead of one per core, as the point here is the shutdown, not the pool.
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ADVPROBE_BACKEND: 'wasm', ADVPROBE_WORKERS: '1', ADVPROBE_SHUTDOWN_GRACE_MS: '1500' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    try {
      await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 90_000);
      const form = (steps: string) => {
        const f = new FormData();
        f.append('image', new Blob([new Uint8Array(pig)], { type: 'image/jpeg' }), 'pig.jpg');
        f.append('steps', steps);
        f.append('images', 'none');
        return f;
      };
      const accepted = (await (await fetch(`${base}/v1/attacks`, { method: 'POST', body: form('200'), headers: { prefer: 'respond-async' } })).json()) as { id: string };
      await waitFor(async () => ((await (await fetch(`${base}/v1/jobs/${accepted.id}`)).json()) as { status: string }).status === 'running');
      const events = fetch(`${base}/v1/jobs/${accepted.id}/events`).then((r) => r.text());
      const queuedSync = fetch(`${base}/v1/attacks`, { method: 'POST', body: form('5') });
      await new Promise((r) => setTimeout(r, 300));
      const signalled = Date.now();
      server.kill('SIGTERM');

      const sync = await queuedSync;
      expect(sync.status).toBe(503);
      expect(((await sync.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
      const stream = await events;
      expect(stream).toMatch(/event: error\ndata: .*shutting_down/);
      expect(await exited).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(1500 + 10_000);
      await expect(fetch(`${base}/healthz`)).rejects.toThrow(); // no longer listening
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
      if (server.exitCode !== 0 && stderr) console.error(stderr);
    }
  });
});
