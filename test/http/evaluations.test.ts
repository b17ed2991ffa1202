import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { startTinyApp } from '../helpers/app';
import { evaluationLabels, evaluationSamples, postEvaluation } from '../helpers/evaluation-set';

// Validation and limits; an evaluation of ResNet50 end to end: test/system/http/evaluations.test.ts.

describe('POST /v1/evaluations: validation and limits (tiny engine)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startTinyApp();
  });
  afterAll(() => app?.close());

  const bad = (labels: string | undefined, extra: Record<string, string>) => ({ ...(labels === undefined ? {} : { labels }), ...extra });
  const misnamed = JSON.stringify(Object.fromEntries(evaluationSamples.map((s) => [s.name, 'no_such_label'])));
  it.each([
    ['no labels', bad(undefined, { epsilons: '1/255' }), 'label'],
    ['no epsilons', bad(evaluationLabels, {}), 'epsilons'],
    ['epsilons=abc', bad(evaluationLabels, { epsilons: 'abc' }), 'epsilons'],
    ['epsilons=-1', bad(evaluationLabels, { epsilons: '-1' }), 'epsilons'],
    ['epsilons=[1', bad(evaluationLabels, { epsilons: '[1' }), 'epsilons'],
    ['a labels map without these files', bad('{"other.png": 3}', { epsilons: '1/255' }), 'labels'],
    ['labels that are not JSON', bad('{not json', { epsilons: '1/255' }), 'labels'],
    ['unknown label names', bad(misnamed, { epsilons: '1/255' }), 'labels'],
    ['a target (evaluations are untargeted)', bad(evaluationLabels, { epsilons: '1/255', target: '3' }), 'target'],
    ['steps=5000', bad(evaluationLabels, { epsilons: '1/255', steps: '5000' }), 'steps'],
  ])('answers %s with 400 naming the field', async (_what, fields, field) => {
    const res = await postEvaluation(app, fields).expect(400);
    expect(res.body.error.message).toContain(field);
  });

  it('refuses a raw body (415), an unknown id (404), too many images (400)', async () => {
    await request(app.server).post('/v1/evaluations').set('content-type', 'image/jpeg').send(evaluationSamples[0].data).expect(415);
    await request(app.server).get('/v1/evaluations/nope').expect(404);
    await request(app.server).get('/v1/evaluations/nope.csv').expect(404);
    const small = await startTinyApp({ ADVPROBE_MAX_EVALUATION_IMAGES: 2 });
    try {
      const res = await postEvaluation(small, { labels: evaluationLabels, epsilons: '1/255' }, evaluationSamples.slice(0, 3)).expect(400);
      expect(res.body.error.message).toContain('at most 2 images');
    } finally {
      await small.close();
    }
  });
});
