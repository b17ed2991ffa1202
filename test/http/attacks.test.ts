import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { postAttack } from '../helpers/attack-checks';
import { startTinyApp } from '../helpers/app';
import { PIG, readTestFile } from '../helpers/data';
import { slowEngine } from '../helpers/tiny-engine';
import { waitFor } from '../helpers/wait';

// Validation, errors and limits of the attack routes; what attacks do to ResNet50:
// test/system/http/attacks.test.ts, attack-algorithms.test.ts, minimal.test.ts.
const pig = readTestFile(...PIG);

const attack = (app: FastifyInstance, fields: Record<string, string>) => postAttack(app, pig, fields);

describe('POST /v1/attacks: validation (tiny engine)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startTinyApp({ ADVPROBE_MAX_QUERIES: 500 });
  });
  afterAll(() => app?.close());

  it.each([
    [{ epsilon: '-1' }, 'epsilon'],
    [{ epsilon: '2' }, 'epsilon'],
    [{ epsilon: 'abc' }, 'epsilon'],
    [{ steps: '0' }, 'steps'],
    [{ steps: '100000' }, 'steps'],
    [{ target: 'not_a_label' }, 'target'],
    [{ target: '1000' }, 'target'],
    [{ target: '341', label: '341' }, 'target'],
    [{ norm: 'l3' }, 'norm'],
    [{ optimizer: 'adam' }, 'optimizer'],
    [{ stepSize: '0' }, 'stepSize'],
    [{ colour: 'red' }, 'colour'],
  ])('answers %j with 400 naming %s', async (fields, field) => {
    const res = await attack(app, fields as Record<string, string>).expect(400);
    expect(res.body.error.code).toMatch(/invalid_parameter|unknown_field/);
    expect(res.body.error.message).toContain(field);
  });

  it('answers a target that is the true label, which defaults to the clean top-1 the model finds, with 400 naming target', async () => {
    const top1 = (await request(app.server).post('/v1/classify?topk=1').set('content-type', 'image/jpeg').send(pig).expect(200)).body.predictions[0].classIndex as number;
    const res = await attack(app, { target: String(top1) }).expect(400);
    expect(res.body.error.code).toMatch(/invalid_parameter|unknown_field/);
    expect(res.body.error.message).toContain('target');
  });

  it.each([
    [{ mode: 'minimal', epsilon: '2/255' }, 'epsilon'],
    [{ tolerance: '1/255' }, 'tolerance'],
    [{ epsilonMax: '8/255' }, 'epsilonMax'],
    [{ mode: 'minimal', epsilonMax: '0' }, 'epsilonMax'],
    [{ mode: 'minimal', epsilonMax: '2' }, 'epsilonMax'],
    [{ mode: 'minimal', tolerance: '16/255' }, 'tolerance'],
    [{ mode: 'minimal', tolerance: '-1' }, 'tolerance'],
    [{ mode: 'minimal', steps: '500' }, 'steps'],
    [{ mode: 'smallest' }, 'mode'],
  ])('mode=minimal: answers %j with 400 naming %s', async (fields, field) => {
    const res = await attack(app, fields).expect(400);
    expect(res.body.error.message).toContain(field);
  });

  const refused: [Record<string, string>, string][] = [
    [{ attack: 'square', steps: '5' }, 'steps: not used by square'],
    [{ attack: 'square', loss: 'dlr' }, 'loss: square takes margin or ce'],
    [{ attack: 'square', queries: '501' }, 'ADVPROBE_MAX_QUERIES'],
    [{ attack: 'apgd-ce', stepSize: '0.01' }, 'stepSize: not used by apgd-ce'],
    [{ attack: 'apgd-t', target: 'airliner' }, 'target: apgd-t chooses its own targets'],
    [{ attack: 'apgd-t', targets: '9', steps: '200' }, 'steps × targets × restarts'],
    [{ attack: 'pgd', queries: '10' }, 'queries: not used by pgd'],
    [{ attack: 'fgsm', steps: '3' }, 'steps: not used by fgsm'],
    [{ attack: 'apgd-ce', mode: 'minimal' }, 'mode: minimal searches with pgd only'],
    [{ attack: 'cw' }, 'attack'],
  ];
  it.each(refused)('arguments that do not apply to the attack: %j is a 400 naming the field', async (fields, message) => {
    const res = await attack(app, fields).expect(400);
    expect(res.body.error.message).toContain(message);
  });

  it('the same on the query of a raw image body', async () => {
    const res = await request(app.server).post('/v1/attacks?attack=square&steps=5').set('content-type', 'image/jpeg').send(pig).expect(400);
    expect(res.body.error.message).toContain('steps: not used by square');
  });

  it('evaluations: unknown or repeated attacks, and fields none of the listed attacks use', async () => {
    for (const [attacks, extra, message] of [
      ['pgd,cw', {}, 'unknown attack "cw"'],
      ['square,square', {}, 'listed twice'],
      ['square', { steps: '3' }, 'steps: not used by square'],
      ['autoattack', { stepSize: '0.01' }, 'stepSize: not used by apgd-ce, apgd-t, square'],
    ] as const) {
      let r = request(app.server).post('/v1/evaluations').field('attacks', attacks).field('epsilons', '1/255').field('label', 'hog');
      for (const [k, v] of Object.entries(extra)) r = r.field(k, v);
      const res = await r.attach('image', pig, 'pig.jpg').expect(400);
      expect(res.body.error.message).toContain(message);
    }
  });

  it('answers unknown jobs with 404', async () => {
    for (const path of ['', '/events', '/original.png']) {
      const res = await request(app.server).get(`/v1/jobs/00000000-0000-0000-0000-000000000000${path}`).expect(404);
      expect(res.body.error.code).toBe('job_not_found');
    }
    await request(app.server).delete('/v1/jobs/nope').expect(404);
  });
});

describe('attack limits (tiny engine, 50 ms a model call)', () => {
  it('answers 503 + Retry-After when the queue is full, and fails a job past its time limit', async () => {
    // One job at a time (no batching), so one runs, one waits and the next is refused.
    const app = await startTinyApp({ ADVPROBE_QUEUE_SIZE: 1, ADVPROBE_JOB_TIMEOUT_MS: 4000, ADVPROBE_MAX_BATCH: 1 }, { engine: async () => slowEngine(50) });
    try {
      const async = (steps: string) => attack(app, { steps, images: 'none' }).set('Prefer', 'respond-async');
      const running = (await async('100').expect(202)).body.id as string;
      await waitFor(async () => (await request(app.server).get(`/v1/jobs/${running}`)).body.status === 'running');
      const waiting = (await async('1').expect(202)).body.id as string;
      const full = await async('1').expect(503);
      expect(full.body.error.code).toBe('queue_full');
      expect(full.headers['retry-after']).toMatch(/^\d+$/);
      // The 100-step attack (5 s at least) outlives ADVPROBE_JOB_TIMEOUT_MS (queue wait included): it fails, clearly.
      await waitFor(async () => (await request(app.server).get(`/v1/jobs/${running}`)).body.status === 'failed', 20_000);
      const failed = await request(app.server).get(`/v1/jobs/${running}`).expect(200);
      expect(failed.body.error).toMatchObject({ code: 'job_timeout', message: expect.stringContaining('ADVPROBE_JOB_TIMEOUT_MS') });
      // Every accepted job reaches a final state, and the worker goes on with new ones.
      await waitFor(async () => ['succeeded', 'failed'].includes((await request(app.server).get(`/v1/jobs/${waiting}`)).body.status), 20_000);
      const next = await attack(app, { steps: '1', images: 'none', quantize: 'round' }).expect(200);
      expect(next.body.status).toBe('succeeded');
    } finally {
      await app.close();
    }
  });
});
