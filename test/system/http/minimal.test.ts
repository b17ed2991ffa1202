import type { FastifyInstance } from 'fastify';
import type { AttackResult } from '../../../src/contract/attack-schemas';
import { expectAttackInvariants, postAttack } from '../../helpers/attack-checks';
import { startApp } from '../../helpers/app';
import { PIG, readTestFile } from '../../helpers/data';

const pig = readTestFile(...PIG);
const HOG = 341;

const attack = (app: FastifyInstance, fields: Record<string, string>) => postAttack(app, pig, fields);

// Its validation: test/http/attacks.test.ts.
describe('POST /v1/attacks with mode=minimal (real ResNet50)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app?.close());

  it('finds the smallest ε that flips the pig, brackets it within the tolerance, and the attack at it succeeds', async () => {
    const res = await attack(app, { mode: 'minimal', seed: '1' }).expect(200);
    const result = res.body as AttackResult;
    await expectAttackInvariants(result);
    expect(result.attack).toMatchObject({ mode: 'minimal', epsilon: 16 / 255, earlyStop: true });
    const { minimalEpsilon, lowerBound, search } = result;
    expect(typeof minimalEpsilon).toBe('number');
    expect(minimalEpsilon!).toBeLessThanOrEqual(16 / 255);
    expect(minimalEpsilon!).toBeGreaterThan(lowerBound!);
    expect(minimalEpsilon! - lowerBound!).toBeLessThanOrEqual(0.25 / 255 + 1e-9);
    expect(result.minimalEpsilon255).toBeCloseTo(minimalEpsilon! * 255, 9);
    expect(result.lowerBound255).toBeCloseTo(lowerBound! * 255, 9);
    expect(search!.probes[0]).toEqual({ epsilon: 16 / 255, success: true });
    // The returned adversarial image is the attack at minimalEpsilon: it succeeds within it.
    expect(result.adversarial.success).toBe(true);
    expect(result.adversarial.predictions[0].classIndex).not.toBe(HOG);
    expect(result.perturbation.linf).toBeLessThanOrEqual(minimalEpsilon! + 1e-6);

    // Progress and the loss curve run across every probe.
    expect(result.losses.map((l) => l.step)).toEqual(result.losses.map((_, i) => i));
  });

  it('reports null when even epsilonMax is too small, with lowerBound = epsilonMax', async () => {
    const res = await attack(app, { mode: 'minimal', epsilonMax: '0.01/255', tolerance: '0.005/255', images: 'none', seed: '1' }).expect(200);
    const result = res.body as AttackResult;
    expect(result.minimalEpsilon).toBeNull();
    expect(result.minimalEpsilon255).toBeNull();
    expect(result.lowerBound).toBeCloseTo(0.01 / 255, 12);
    expect(result.adversarial.success).toBe(false);
  });
});
