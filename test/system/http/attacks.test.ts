import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import type { AttackResult } from '../../../src/contract/attack-schemas';
import { expectAttackInvariants, postAttack } from '../../helpers/attack-checks';
import { startApp, TEST_BACKEND } from '../../helpers/app';
import { PIG, readTestFile } from '../../helpers/data';
import { waitFor } from '../../helpers/wait';

const pig = readTestFile(...PIG);
const HOG = 341;
const AIRLINER = 404;

/** Reads a whole server-sent event stream (it ends when the job does) into [event, data] pairs. */
async function readEvents(app: FastifyInstance, id: string, lastEventId?: number): Promise<[string, unknown, number | null][]> {
  let req = request(app.server).get(`/v1/jobs/${id}/events`);
  if (lastEventId !== undefined) req = req.set('last-event-id', String(lastEventId));
  const res = await req
    .buffer(true)
    .parse((stream, done) => {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      stream.on('end', () => done(null, text));
    });
  expect(res.headers['content-type']).toMatch(/text\/event-stream/);
  return (res.body as string)
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as unknown;
      const seq = /^id: (\d+)$/m.exec(block)?.[1];
      return [event, data, seq === undefined ? null : Number(seq)];
    });
}

const attack = (app: FastifyInstance, fields: Record<string, string>) => postAttack(app, pig, fields);


// End to end on the real model, on the default engine (ONNX Runtime; the wasm engine's own
// tests: test/engine/). Validation, unknown jobs and limits: test/http/attacks.test.ts.
describe(`POST /v1/attacks (real ResNet50 on ${TEST_BACKEND}, seeded)`, () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app?.close());

  it('sign PGD, ε = 2/255, 10 steps (the defaults): hog is gone, also from the 8-bit PNG', async () => {
    const tensorsBefore = await app.model.tensorCount();
    const res = await attack(app, { seed: '1' }).expect(200);
    expect(await app.model.tensorCount()).toBe(tensorsBefore);
    const result = res.body as AttackResult;
    expect(result.status).toBe('succeeded');
    expect(result.attack).toMatchObject({ norm: 'linf', epsilon: 2 / 255, steps: 10, stepSize: (2.5 * 2) / 255 / 10, optimizer: 'sign', clamp: true, seed: 1, targeted: false });
    expect(result.original.predictions[0].classIndex).toBe(HOG);
    expect(result.adversarial.success).toBe(true);
    expect(result.adversarial.quantized.success).toBe(true);
    expect(result.adversarial.predictions[0].classIndex).not.toBe(HOG);
    expect(result.trueClass.classIndex).toBe(HOG);
    expect(result.trueClass.adversarialProbability).toBeLessThan(1e-3);
    expect(result.targetClass).toBeNull();
    expect(result.losses).toHaveLength(10);
    expect(result.losses[0].loss).toBeCloseTo(Math.log(result.trueClass.originalProbability), 3); // −CE at the clean image
    await expectAttackInvariants(result);

    // The same images are served as PNG files.
    const png = async (path: string) => (await request(app.server).get(`/v1/jobs/${result.id}/${path}`).buffer(true).expect('content-type', 'image/png').expect(200)).body as Buffer;
    expect((await png('original.png')).toString('base64')).toBe(result.images!.original);
    expect((await png('adversarial.png')).toString('base64')).toBe(result.images!.adversarial);
    expect((await png('delta.png')).toString('base64')).toBe(result.images!.delta);
    expect((await png('delta.png?scale=50')).toString('base64')).toBe(result.images!.deltaVisual);
    const job = await request(app.server).get(`/v1/jobs/${result.id}`).expect(200);
    expect(job.body).toMatchObject({ id: result.id, status: 'succeeded', progress: { step: 9, steps: 10 } });
    expect(job.body.result.adversarial).toEqual(result.adversarial);
    await request(app.server).delete(`/v1/jobs/${result.id}`).expect(409);
  });

  it('targeted to 404 airliner with sign PGD and the tutorial objective: airliner is top-1', async () => {
    const res = await attack(app, { target: 'airliner', seed: '1', images: 'none' }).expect(200);
    const result = res.body as AttackResult;
    expect(result.attack.targeted).toBe(true);
    expect(result.targetClass).toMatchObject({ classIndex: AIRLINER, label: 'airliner' });
    expect(result.adversarial.predictions[0].classIndex).toBe(AIRLINER);
    expect(result.adversarial.quantized.success).toBe(true);
    expect(result.images).toBeUndefined();
    await expectAttackInvariants(result);
  });

  it("the tutorial's SGD step without clamping keeps δ in the ball and may leave [0, 1]", async () => {
    const res = await attack(app, { optimizer: 'sgd', stepSize: '1', steps: '4', clamp: 'false', epsilon: '2/255', label: 'hog', seed: '3' }).expect(200);
    const result = res.body as AttackResult;
    expect(result.attack).toMatchObject({ optimizer: 'sgd', stepSize: 1, clamp: false, label: 'hog' });
    expect(result.losses[3].loss).toBeLessThan(result.losses[0].loss);
    await expectAttackInvariants(result);
  });

  it('same seed, same request → the same result', async () => {
    const fields = { randomStart: 'true', steps: '2', seed: '7', target: 'random', quantize: 'round' };
    const [a, b] = [(await attack(app, fields).expect(200)).body as AttackResult, (await attack(app, fields).expect(200)).body as AttackResult];
    expect(b.losses).toEqual(a.losses);
    expect(b.targetClass).toEqual(a.targetClass);
    expect(b.images).toEqual(a.images);
    const c = (await attack(app, { ...fields, seed: '8' }).expect(200)).body as AttackResult;
    expect(c.images?.adversarial).not.toBe(a.images?.adversarial);
  });

  it('async: 202 + Location, then progress events and the result', async () => {
    const accepted = await attack(app, { steps: '3', seed: '2' }).set('Prefer', 'respond-async').expect(202);
    expect(accepted.headers.location).toBe(`/v1/jobs/${accepted.body.id}`);
    expect(accepted.body).toMatchObject({ status: expect.stringMatching(/^(queued|running)$/), location: accepted.headers.location });
    const events = await readEvents(app, accepted.body.id);
    expect(events[0][0]).toBe('status');
    expect(events.filter(([e]) => e === 'progress').map(([, d]) => (d as { step: number }).step)).toEqual(expect.arrayContaining([0, 1, 2]));
    const [last, data] = events[events.length - 1];
    expect(last).toBe('result');
    expect((data as AttackResult).adversarial.success).toBe(true);
    // Every event after `status` has an id, counting from 1.
    expect(events.slice(1).map(([, , seq]) => seq)).toEqual(events.slice(1).map((_, i) => i + 1));
    // A finished job's stream replays its log at once; a reconnect with Last-Event-ID gets only what it missed.
    const again = await readEvents(app, accepted.body.id);
    expect(again.map(([e]) => e)).toEqual(events.map(([e]) => e));
    const resumed = await readEvents(app, accepted.body.id, events.length - 2);
    expect(resumed.map(([e, , seq]) => [e, seq])).toEqual([['status', null], ...events.slice(-1).map(([e, , seq]) => [e, seq])]);
  });

  it('cancels a running attack within a step; the worker goes on with the next job', async () => {
    const accepted = await attack(app, { steps: '100', seed: '4', images: 'none' }).set('Prefer', 'respond-async').expect(202);
    const id = accepted.body.id as string;
    const events = readEvents(app, id);
    await waitFor(async () => ((await request(app.server).get(`/v1/jobs/${id}`)).body.progress?.step ?? -1) >= 1);
    await request(app.server).get('/healthz').expect(200); // the event loop is free mid-attack
    const cancelled = await request(app.server).delete(`/v1/jobs/${id}`).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    const stream = await events;
    expect(stream[stream.length - 1][0]).toBe('cancelled');
    const progress = stream.filter(([e]) => e === 'progress').length;
    expect(progress).toBeLessThan(20);
    await request(app.server).get(`/v1/jobs/${id}/adversarial.png`).expect(409);
    const next = await request(app.server).post('/v1/classify').attach('image', pig, 'pig.jpg').expect(200);
    expect(next.body.predictions[0].classIndex).toBe(HOG);
  });
});
