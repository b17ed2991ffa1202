import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import type { EvaluationResult } from '../../../src/contract/evaluation-schemas';
import { startApp } from '../../helpers/app';
import { PIG, readTestFile } from '../../helpers/data';
import { waitFor } from '../../helpers/wait';
import { evaluationLabels, evaluationSamples, postEvaluation } from '../../helpers/evaluation-set';


async function finished(app: FastifyInstance, id: string): Promise<{ status: string; result?: EvaluationResult; error?: { code: string } }> {
  await waitFor(async () => ['succeeded', 'failed', 'cancelled'].includes((await request(app.server).get(`/v1/evaluations/${id}`)).body.status), 300_000);
  return (await request(app.server).get(`/v1/evaluations/${id}`)).body;
}

// Validation and limits: test/http/evaluations.test.ts.
describe('POST /v1/evaluations (real ResNet50, ten ImageNet samples)', () => {
  let app: FastifyInstance;
  let result: EvaluationResult;
  let id: string;
  beforeAll(async () => {
    app = await startApp();
    const accepted = await postEvaluation(app, { labels: evaluationLabels, epsilons: '1/255, 4/255', seed: '1' }).expect(202);
    id = accepted.body.id;
    expect(accepted.headers.location).toBe(`/v1/evaluations/${id}`);
    // Classification goes on between the evaluation's model calls: it is answered while the evaluation still runs.
    await waitFor(async () => ((await request(app.server).get(`/v1/evaluations/${id}`)).body.progress?.done ?? 0) > 0, 300_000);
    const classified = await request(app.server).post('/v1/classify').attach('image', readTestFile(...PIG), 'pig.jpg').expect(200);
    expect(classified.body.predictions[0].label).toBe('hog');
    expect((await request(app.server).get(`/v1/evaluations/${id}`)).body.status).toBe('running');
    const done = await finished(app, id);
    expect(done.status).toBe('succeeded');
    result = done.result!;
  }, 600_000);
  afterAll(() => app?.close());

  it('reports clean accuracy, empirical risk and the risks and accuracies per ε, with the tutorial\'s relations', () => {
    expect(result.count).toBe(10);
    expect(result.cleanAccuracy).toBeGreaterThanOrEqual(0.75);
    expect(result.epsilons.map((e) => e.epsilon)).toEqual([1 / 255, 4 / 255]);
    // RobustBench: a standard ResNet50 has 0 % robust accuracy at 4/255.
    expect(result.epsilons[1].robustAccuracy).toBeLessThanOrEqual(0.02);
    expect(result.epsilons[1].successRate).toBe(1);
    let previous = result.empiricalRisk;
    for (const e of result.epsilons) {
      expect(e.adversarialRisk).toBeGreaterThanOrEqual(previous);
      previous = e.adversarialRisk;
      expect(e.epsilon255).toBeCloseTo(e.epsilon * 255, 9);
    }
    expect(result.settings).toMatchObject({ norm: 'linf', steps: 10, seed: 1, epsilons255: [1, 4], tolerance: 0.25 / 255 });
  });

  it('gives each image its clean and per-ε predictions and a minimal ε consistent with them', () => {
    for (const image of result.images) {
      const sample = evaluationSamples.find((s) => s.name === image.name)!;
      expect(image.label).toBe(sample.classIndex);
      expect(image.atEpsilon).toHaveLength(2);
      if (!image.clean.correct) {
        expect(image.minimalEpsilon).toBe(0);
        continue;
      }
      expect(image.minimalEpsilon).not.toBeNull();
      expect(image.minimalEpsilon!).toBeLessThanOrEqual(4 / 255);
      expect(image.minimalEpsilon!).toBeGreaterThan(image.lowerBound);
      expect(image.minimalEpsilon! - image.lowerBound).toBeLessThanOrEqual(0.25 / 255 + 1e-9);
      // The first grid radius at or above the minimal ε finds the image flipped.
      const first = image.atEpsilon.find((p) => p.epsilon >= image.minimalEpsilon! - 1e-12)!;
      expect(first.correct).toBe(false);
    }
  });

  it('serves the per-image table as CSV', async () => {
    const res = await request(app.server).get(`/v1/evaluations/${id}.csv`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = res.text.trim().split('\r\n').map((r) => r.split(','));
    expect(rows).toHaveLength(11);
    expect(rows[0]).toEqual(expect.arrayContaining(['file', 'label', 'clean_prediction', 'eps_1_255_prediction', 'eps_4_255_correct', 'minimal_epsilon']));
    expect(rows.slice(1).map((r) => r[0]).sort()).toEqual(evaluationSamples.map((s) => s.name).sort());
  });

  it('takes a label field per image, and cancels a running evaluation', async () => {
    const two = evaluationSamples.slice(0, 2);
    let r = request(app.server).post('/v1/evaluations').field('epsilons', '["1/255", 0.01]').field('steps', '50').field('minimal', 'false');
    for (const s of two) r = r.attach('image', s.data, s.name).field('label', String(s.classIndex));
    const accepted = await r.expect(202);
    await waitFor(async () => ((await request(app.server).get(`/v1/evaluations/${accepted.body.id}`)).body.progress?.done ?? -1) >= 0, 60_000);
    const cancelled = await request(app.server).delete(`/v1/evaluations/${accepted.body.id}`).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    await request(app.server).get(`/v1/evaluations/${accepted.body.id}.csv`).expect(409);
  });

  it('streams a finished evaluation as status, its progress log, then the result; Last-Event-ID skips what was seen', async () => {
    const stream = async (lastEventId?: string) => {
      let req = request(app.server).get(`/v1/evaluations/${id}/events`);
      if (lastEventId) req = req.set('last-event-id', lastEventId);
      const res = await req.buffer(true).parse((s, done) => {
        let text = '';
        s.on('data', (chunk: Buffer) => (text += chunk.toString()));
        s.on('end', () => done(null, text));
      });
      return (res.body as string).split('\n\n').filter(Boolean).map((block) => [/^event: (.*)$/m.exec(block)?.[1], /^id: (.*)$/m.exec(block)?.[1]]);
    };
    const all = await stream();
    expect(all[0]).toEqual(['status', undefined]);
    expect(all.slice(1, -1).every(([event]) => event === 'progress')).toBe(true);
    expect(all[all.length - 1][0]).toBe('result');
    const lastProgress = all[all.length - 2][1]!;
    expect(await stream(lastProgress)).toEqual([['status', undefined], all[all.length - 1]]);
  });
});
