import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import type { AttackResult } from '../../../src/contract/attack-schemas';
import type { EvaluationResult } from '../../../src/contract/evaluation-schemas';
import { readImagenetSamples } from '../../../scripts/imagenet-samples';
import { expectAttackInvariants, postAttack } from '../../helpers/attack-checks';
import { startApp } from '../../helpers/app';
import { PIG, readTestFile, testDataPath } from '../../helpers/data';
import { waitFor } from '../../helpers/wait';

const pig = readTestFile(...PIG);
const HOG = 341;

const attack = (app: FastifyInstance, fields: Record<string, string>) => postAttack(app, pig, fields);

// Arguments that do not apply to an attack: test/http/attacks.test.ts.
describe('the attack field on POST /v1/attacks (real ResNet50, seeded)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app?.close());

  it('fgsm: one signed step to the edge of the ball (on this confident hog one step is not enough, even at 16/255)', async () => {
    const result = (await attack(app, { attack: 'fgsm', epsilon: '16/255', seed: '1', images: 'none' }).expect(200)).body as AttackResult;
    expect(result.attack).toMatchObject({ attack: 'fgsm', steps: 1, stepSize: 16 / 255 });
    expect(result.calls).toEqual({ forward: 1, gradient: 1 });
    expect(result.perturbation.linf).toBeCloseTo(16 / 255, 6);
    await expectAttackInvariants(result);
  });

  const cases: [string, Record<string, string>, { forward: number; gradient: number }][] = [
    ['apgd-ce', { attack: 'apgd-ce', epsilon: '1/255', steps: '4' }, { forward: 1, gradient: 4 }],
    ['apgd-dlr', { attack: 'apgd-dlr', epsilon: '1/255', steps: '10' }, { forward: 1, gradient: 10 }],
  ];
  it.each(cases)('%s: breaks the hog within the ball and says what it cost', async (name, fields, calls) => {
    const res = await attack(app, { ...fields, seed: '1', images: 'none' }).expect(200);
    const result = res.body as AttackResult;
    expect(result.attack).toMatchObject({ attack: name, norm: 'linf', targeted: false });
    expect(result.original.predictions[0].classIndex).toBe(HOG);
    expect(result.adversarial.success).toBe(true);
    expect(result.calls).toEqual(calls);
    await expectAttackInvariants(result);
  });

  it('apgd-t: aims at the next most likely classes, succeeds untargeted', async () => {
    const result = (await attack(app, { attack: 'apgd-t', epsilon: '1/255', steps: '10', targets: '2', seed: '1', images: 'none' }).expect(200)).body as AttackResult;
    expect(result.attack).toMatchObject({ attack: 'apgd-t', loss: 'dlr', targets: 2, targeted: false });
    expect(result.targetClass).toBeNull();
    expect(result.adversarial.success).toBe(true);
    expect(result.calls.gradient).toBe(10); // the first target was enough: the second never ran
    await expectAttackInvariants(result);
  });

  it('square: forward passes only, within its query budget', async () => {
    const result = (await attack(app, { attack: 'square', epsilon: '4/255', queries: '60', seed: '1', images: 'none' }).expect(200)).body as AttackResult;
    expect(result.attack).toMatchObject({ attack: 'square', loss: 'margin', queries: 60, steps: 0 });
    expect(result.calls.gradient).toBe(0);
    expect(result.calls.forward).toBeGreaterThanOrEqual(1);
    expect(result.calls.forward).toBeLessThanOrEqual(60);
    expect(result.perturbation.linf).toBeLessThanOrEqual(4 / 255 + 1e-6);
    if (!result.adversarial.success) expect(result.calls.forward).toBe(60);
  });

  it('an autoattack evaluation: the worst case over APGD-CE, APGD-T and Square, with attribution', async () => {
    const samples = readImagenetSamples(testDataPath('imagenet-samples')).filter((_, i) => i % 25 === 0);
    let r = request(app.server).post('/v1/evaluations');
    const fields = { attacks: 'autoattack', epsilons: '0.25/255,1/255', steps: '3', targets: '2', queries: '10', seed: '1', minimal: 'false', labels: JSON.stringify(Object.fromEntries(samples.map((s) => [s.name, s.classIndex]))) };
    for (const [k, v] of Object.entries(fields)) r = r.field(k, v);
    for (const s of samples) r = r.attach('image', s.data, s.name);
    const { id } = (await r.expect(202)).body as { id: string };
    await waitFor(async () => ['succeeded', 'failed'].includes((await request(app.server).get(`/v1/evaluations/${id}`)).body.status), 300_000);
    const body = (await request(app.server).get(`/v1/evaluations/${id}`)).body as { status: string; result: EvaluationResult };
    expect(body.status).toBe('succeeded');
    const result = body.result;
    expect(result.settings.attacks.map((a) => a.attack)).toEqual(['apgd-ce', 'apgd-t', 'square']);
    expect(result.settings.attacks[2]).toMatchObject({ queries: 10, steps: 0 });
    for (const [k, e] of result.epsilons.entries()) {
      const broken = Object.values(e.brokenBy).reduce((a, b) => a + b, 0);
      const clean = result.images.filter((img) => !img.clean.correct).length;
      expect(broken + clean).toBe(result.count - Math.round(e.robustAccuracy * result.count));
      for (const img of result.images) {
        const at = img.atEpsilon[k];
        expect(at.brokenBy === null).toBe(at.correct);
        if (!img.clean.correct) expect(at.brokenBy).toBe('clean');
      }
    }
    expect(result.epsilons[1].robustAccuracy).toBeLessThanOrEqual(result.epsilons[0].robustAccuracy);
    const csv = await request(app.server).get(`/v1/evaluations/${id}.csv`).expect(200);
    expect(csv.text.split('\r\n')[0]).toContain('_broken_by');
  });
});
