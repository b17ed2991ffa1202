import { decodeToModelInput } from '../../../src/images/decode';
import { PIG, readTestFile } from '../../helpers/data';
import { ServerProcess } from '../../helpers/processes';
import { RedisProcess, uniquePrefix } from '../../helpers/redis';
import { tempModelsDir } from '../../helpers/models';
import { readImagenetSamples } from '../../../scripts/imagenet-samples';
import { testDataPath } from '../../helpers/data';
import { waitFor } from '../../helpers/wait';

/**
 * The distributed mode with real processes and a real Redis: API processes and model
 * worker processes (src/server.ts with ADVPROBE_ROLE) sharing one redis-server of this
 * test's own (one test stops it). Every fault the issue names is one test here.
 */
const pig = readTestFile(...PIG);
const ALICE = { authorization: 'Bearer alice-key' };
const BOB = { authorization: 'Bearer bob-key' };

function pigForm(fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(pig)], { type: 'image/jpeg' }), 'pig.jpg');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

type JobView = { id: string; status: string; progress: { step: number } | null; error?: { code: string; message: string }; result?: { adversarial: { success: boolean } } };

describe('distributed: API and model worker processes over Redis', () => {
  let redis: RedisProcess;
  const prefix = uniquePrefix();
  const started: ServerProcess[] = [];
  let api1: ServerProcess;
  let api2: ServerProcess;
  let worker1: ServerProcess;
  let worker2: ServerProcess;

  // Every process reads and writes trained models in one folder, as compose's shared volume.
  const modelsDir = tempModelsDir();
  const common = () => ({ ADVPROBE_REDIS_URL: redis.url, ADVPROBE_REDIS_PREFIX: prefix, ADVPROBE_API_KEYS: 'alice-key,bob-key', ADVPROBE_METRICS_PUBLIC: 'true', ADVPROBE_MODELS_DIR: modelsDir });
  const start = async (name: string, env: Record<string, string>): Promise<ServerProcess> => {
    const proc = await ServerProcess.start(name, { ...common(), ...env });
    started.push(proc);
    return proc.ready();
  };
  const api = (name: string, env: Record<string, string> = {}) => start(name, { ADVPROBE_ROLE: 'api', ...env });
  // One ONNX Runtime thread each, so two workers share the two cores.
  const worker = (name: string, env: Record<string, string> = {}) =>
    start(name, { ADVPROBE_ROLE: 'worker', ADVPROBE_BACKEND: 'onnxruntime', ADVPROBE_ENGINE_THREADS: '1', ADVPROBE_SHUTDOWN_GRACE_MS: '20000', ...env });
  const submit = async (on: ServerProcess, fields: Record<string, string>, headers = ALICE): Promise<string> => {
    const res = await on.json<{ id: string }>('/v1/attacks', { method: 'POST', body: pigForm({ images: 'none', quantize: 'round', ...fields }), headers: { ...headers, prefer: 'respond-async' } });
    expect(res.status).toBe(202);
    return res.body.id;
  };
  const job = async (on: ServerProcess, id: string): Promise<JobView> => (await on.json<JobView>(`/v1/jobs/${id}`, { headers: ALICE })).body;
  const until = async (on: ServerProcess, id: string, predicate: (j: JobView) => boolean, timeoutMs = 90_000): Promise<JobView> => {
    let last: JobView | undefined;
    await waitFor(async () => predicate((last = await job(on, id).catch(() => last!))), timeoutMs);
    return last!;
  };

  beforeAll(async () => {
    redis = await RedisProcess.start();
    [api1, api2, worker1, worker2] = await Promise.all([api('api1'), api('api2'), worker('worker1'), worker('worker2')]);
  });
  afterAll(async () => {
    await Promise.all(started.map((p) => p.kill('SIGKILL')));
    await redis?.stop();
  });
  afterEach(() => {
    const dead = started.filter((p) => !p.alive && p.child.signalCode === null && p.child.exitCode !== 0);
    for (const p of dead) console.error(`${p.name} exited ${p.child.exitCode}:\n${p.log}`);
  });

  it('classifies through an API process: a worker process answers; each role serves only its routes', async () => {
    const res = await api1.json<{ predictions: { label: string }[]; backend: string }>('/v1/classify', { method: 'POST', body: pigForm(), headers: ALICE });
    expect(res.status).toBe(200);
    expect(res.body.predictions[0].label).toBe('hog');
    expect(res.body.backend).toBe('onnxruntime');
    expect((await api1.json('/readyz')).body).toMatchObject({ status: 'ready', role: 'api', backend: null });
    expect((await worker1.json('/readyz')).body).toMatchObject({ status: 'ready', role: 'worker', backend: 'onnxruntime' });
    expect((await worker1.fetch('/metrics')).status).toBe(200);
    expect((await worker1.fetch('/v1/classify', { method: 'POST', body: pigForm(), headers: ALICE })).status).toBe(404);
  });

  it('answers the Open Inference Protocol through an API process, JSON and binary, from a worker process', async () => {
    const { pixels } = await decodeToModelInput(pig, { width: 224, height: 224, resize: 'crop', maxInputPixels: 1e8 });
    const data = Float32Array.from(pixels, (p) => p / 255);
    const input = { name: 'pixels', shape: [1, 224, 224, 3], datatype: 'FP32' };
    const viaJson = await api1.json<{ outputs: { name: string; data: number[] }[] }>('/v2/models/resnet50/infer', {
      method: 'POST',
      headers: { ...ALICE, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ ...input, data: Array.from(data) }], outputs: [{ name: 'probabilities' }] }),
    });
    expect(viaJson.status).toBe(200);
    const probabilities = viaJson.body.outputs[0].data;
    expect(probabilities.indexOf(Math.max(...probabilities))).toBe(341); // hog
    // The binary extension: the JSON header, then little-endian FP32, both ways.
    const header = Buffer.from(JSON.stringify({ inputs: [{ ...input, parameters: { binary_data_size: data.length * 4 } }], outputs: [{ name: 'probabilities', parameters: { binary_data: true } }] }));
    const bytes = Buffer.alloc(data.length * 4);
    data.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
    const res = await api2.fetch('/v2/models/resnet50/infer', {
      method: 'POST',
      headers: { ...ALICE, 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([header, bytes]),
    });
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    const raw = body.subarray(Number(res.headers.get('inference-header-content-length')));
    expect(Array.from({ length: 1000 }, (_, i) => raw.readFloatLE(i * 4))).toEqual(probabilities);
  });

  it('trains through one API process on a worker process; the other API lists, serves and deletes the model, for its key only', async () => {
    const samples = readImagenetSamples(testDataPath('imagenet-samples')).slice(0, 4);
    const form = new FormData();
    for (const s of samples) form.append('image', new Blob([new Uint8Array(s.data)], { type: 'image/jpeg' }), s.name);
    form.append('labels', JSON.stringify(Object.fromEntries(samples.map((s) => [s.name, s.classIndex]))));
    for (const [k, v] of Object.entries({ name: 'shared-fc', trainable: 'fc', epochs: '1', batchSize: '4', holdout: '0', seed: '2' })) form.append(k, v);
    const accepted = await api1.json<{ id: string }>('/v1/trainings', { method: 'POST', body: form, headers: ALICE });
    expect(accepted.status).toBe(202);
    let view: { status: string; result?: { model: { name: string } } } = { status: 'queued' };
    await waitFor(async () => ['succeeded', 'failed', 'cancelled'].includes((view = (await api2.json<typeof view>(`/v1/trainings/${accepted.body.id}`, { headers: ALICE })).body).status), 240_000);
    expect(view.status).toBe('succeeded');
    const names = async (on: ServerProcess, headers: Record<string, string>) => (await on.json<{ models: { name: string }[] }>('/v1/models', { headers })).body.models.map((m) => m.name);
    expect(await names(api2, ALICE)).toEqual(['resnet50', 'shared-fc']);
    expect(await names(api1, BOB)).toEqual(['resnet50']);
    for (const on of [api1, api2]) {
      const classified = await on.json<{ model: string }>('/v1/classify', { method: 'POST', body: pigForm({ model: 'shared-fc' }), headers: ALICE });
      expect(classified).toMatchObject({ status: 200, body: { model: 'shared-fc' } });
    }
    expect((await api1.json('/v1/classify', { method: 'POST', body: pigForm({ model: 'shared-fc' }), headers: BOB })).status).toBe(404);
    expect((await api2.json('/v1/models/shared-fc', { method: 'DELETE', headers: ALICE })).status).toBe(200);
    expect(await names(api1, ALICE)).toEqual(['resnet50']);
  }, 300_000);

  it('runs an async attack submitted to one API, streams it from the other, resumes with Last-Event-ID, and serves its PNGs there', async () => {
    const id = await submit(api1, { steps: '4', seed: '3' });
    const text = await (await api2.fetch(`/v1/jobs/${id}/events`, { headers: ALICE })).text();
    const events = text.split('\n\n').filter(Boolean).map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1], id: /^id: (.*)$/m.exec(block)?.[1] }));
    expect(events[0]).toEqual({ event: 'status', id: undefined });
    expect(events.filter((e) => e.event === 'progress').length).toBeGreaterThanOrEqual(4);
    expect(events[events.length - 1].event).toBe('result');
    expect(events.slice(1).map((e) => Number(e.id))).toEqual(events.slice(1).map((_, i) => i + 1));
    const resumed = await (await api2.fetch(`/v1/jobs/${id}/events`, { headers: { ...ALICE, 'last-event-id': '2' } })).text();
    const resumedIds = [...resumed.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(resumedIds).toEqual(events.slice(3).map((e) => Number(e.id)));
    const png = await api2.fetch(`/v1/jobs/${id}/adversarial.png`, { headers: ALICE });
    expect(png.status).toBe(200);
    expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    // Ownership holds across API processes: another key sees nothing.
    expect((await api2.fetch(`/v1/jobs/${id}`, { headers: BOB })).status).toBe(404);
    expect((await api1.fetch(`/v1/jobs/${id}`, { headers: BOB })).status).toBe(404);
  });

  it('DELETE on the other API process stops the running job within one step on the worker that holds it', async () => {
    const id = await submit(api1, { steps: '300' });
    await until(api2, id, (j) => (j.progress?.step ?? -1) >= 1);
    const before = (await job(api2, id)).progress!.step;
    const cancelled = await api2.json<JobView>(`/v1/jobs/${id}`, { method: 'DELETE', headers: ALICE });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.progress!.step).toBeLessThanOrEqual(before + 3);
    expect((await job(api1, id)).status).toBe('cancelled');
    // The worker goes on with the next job.
    const next = await submit(api1, { steps: '1' });
    expect((await until(api1, next, (j) => j.status !== 'queued' && j.status !== 'running')).status).toBe('succeeded');
  });

  it('holds queue_full and the rate limit across API processes (both counted in Redis)', async () => {
    // A deployment of its own, with no worker, so submitted jobs stay waiting.
    const env = { ADVPROBE_REDIS_PREFIX: uniquePrefix(), ADVPROBE_QUEUE_SIZE: '2', ADVPROBE_RATE_LIMIT: '6' };
    const [a, b] = await Promise.all([api('api-a', env), api('api-b', env)]);
    await submit(a, { steps: '1' });
    await submit(b, { steps: '1' });
    const full = await a.json<{ error: { code: string } }>('/v1/attacks', { method: 'POST', body: pigForm(), headers: { ...ALICE, prefer: 'respond-async' } });
    expect(full.status).toBe(503);
    expect(full.body.error.code).toBe('queue_full');
    expect(full.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await b.json('/readyz')).body).toMatchObject({ queueLength: 2 });
    // 3 requests so far on each key's budget of 6 a minute, shared by both processes.
    const statuses: number[] = [];
    for (const proc of [a, b, a, b]) statuses.push((await proc.fetch('/v1/models', { headers: ALICE })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    await Promise.all([a.kill(), b.kill()]);
  });

  it('an API process killed while an async attack runs: a new API process serves its status, result and PNGs', async () => {
    const id = await submit(api1, { steps: '6', seed: '5' });
    await api1.kill('SIGKILL');
    const replacement = await api('api1-again');
    const done = await until(replacement, id, (j) => j.status === 'succeeded');
    expect(done.result?.adversarial.success).toBe(true);
    expect((await replacement.fetch(`/v1/jobs/${id}/original.png`, { headers: ALICE })).status).toBe(200);
    api1 = replacement;
  });

  it('a worker killed with SIGKILL mid-attack: the job fails with worker_crashed within a minute; the next job runs on the survivor', async () => {
    // Only worker1 takes jobs while the victim starts, so we know who holds it.
    expect(await worker2.kill('SIGTERM')).toBe(0);
    const victim = await submit(api1, { steps: '300' });
    await until(api1, victim, (j) => (j.progress?.step ?? -1) >= 1);
    worker2 = await worker('worker2-again');
    await worker1.kill('SIGKILL');
    const killedAt = Date.now();
    const failed = await until(api1, victim, (j) => j.status === 'failed', 60_000);
    expect(Date.now() - killedAt).toBeLessThan(60_000);
    expect(failed.error).toMatchObject({ code: 'worker_crashed' });
    const next = await submit(api2, { steps: '2' });
    expect((await until(api2, next, (j) => j.status !== 'queued' && j.status !== 'running')).status).toBe('succeeded');
  });

  it('SIGTERM on a worker: it finishes its running job, takes no new one, and exits 0', async () => {
    // worker2 is the only worker now.
    const running = await submit(api1, { steps: '30' });
    await until(api1, running, (j) => (j.progress?.step ?? -1) >= 1);
    const exited = worker2.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    const later = await submit(api1, { steps: '1' });
    expect(await exited).toBe(0);
    expect((await job(api1, running)).status).toBe('succeeded');
    expect((await job(api1, later)).status).toBe('queued'); // left in Redis for another worker
    worker2 = await worker('worker3');
    expect((await until(api1, later, (j) => j.status !== 'queued' && j.status !== 'running')).status).toBe('succeeded');
  });

  it('Redis stopped: /readyz turns 503 and requests get a JSON 503 queue_unavailable at once; Redis back: the service recovers by itself', async () => {
    await redis.stop();
    await waitFor(async () => (await api2.fetch('/readyz')).status === 503, 15_000);
    expect((await api2.json('/readyz')).body).toMatchObject({ status: 'unavailable' });
    const begun = Date.now();
    const refused = await api2.json<{ error: { code: string } }>('/v1/classify', { method: 'POST', body: pigForm(), headers: ALICE, signal: AbortSignal.timeout(15_000) });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('queue_unavailable');
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Date.now() - begun).toBeLessThan(10_000);
    expect((await api2.json<{ error: { code: string } }>('/v1/jobs/00000000-0000-0000-0000-000000000000', { headers: ALICE })).body.error.code).toBe('queue_unavailable');
    expect((await api2.fetch('/healthz')).status).toBe(200);
    await waitFor(async () => (await worker2.fetch('/readyz')).status === 503, 15_000);
    expect(started.filter((p) => [api2, worker2].includes(p)).every((p) => p.alive)).toBe(true);

    await redis.start(); // same port, empty
    await api2.ready(30_000);
    await worker2.ready(30_000);
    const classified = await api2.json<{ predictions: { label: string }[] }>('/v1/classify', { method: 'POST', body: pigForm(), headers: ALICE, signal: AbortSignal.timeout(60_000) });
    expect(classified.status).toBe(200);
    expect(classified.body.predictions[0].label).toBe('hog');
  });
});
