import type { AttackProblem, AttackRun, StartPoint } from '../../../src/attacks/algorithm';
import { runAttack } from '../../../src/attacks/attack';
import { settingsFor } from '../../../src/attacks/defaults';
import { pgd } from '../../../src/attacks/pgd';
import { seededRandom } from '../../../src/attacks/random';
import { AttackBoundsError, runBatch } from '../../../src/attacks/runner';
import { evaluateRobustness } from '../../../src/evaluation/robustness';
import type { TrainableEngine } from '../../../src/model/trainable';
import { trainAdversarially } from '../../../src/training/adversarial-training';
import { linearEngine } from '../../helpers/linear-engine';

// Three classes over a 6-pixel image (the exact linear model of attack.test.ts).
const W = [
  [1, 1, 1, 0, 0, 0],
  [0, 0, 0, 1, 1, 1],
  [1, -1, 1, -1, 1, -1],
];
const engine = () => linearEngine(W, [0, 0, 0]);
const x = Float32Array.from([0.6, 0.6, 0.6, 0.5, 0.5, 0.5]);
const base = { norm: 'linf' as const, epsilon: 0.1, restarts: 1, earlyStop: false, clamp: true, seed: 1, quantize: 'round' as const };
const untargeted = { label: null, target: { kind: 'none' as const } };

/** Makes pgd's run return `deltas` (one per sample of the problem), whatever it is asked. */
function rogue(deltas: (problem: AttackProblem) => Float32Array[]): jest.SpyInstance {
  return jest.spyOn(pgd, 'run').mockImplementation(async (_engine, problem) => ({
    delta: deltas(problem),
    logits: problem.cleanLogits,
    success: problem.xs.map(() => false),
    objective: problem.xs.map(() => 0),
  }));
}

describe('the runner\'s final check', () => {
  afterEach(() => jest.restoreAllMocks());

  it('passes every δ the real attacks return (the attack tests run through it)', async () => {
    const out = await runAttack(engine(), { x, ...untargeted }, settingsFor('pgd', { ...base, restarts: 3, randomStart: true }));
    expect(out.perturbation.linf).toBeLessThanOrEqual(0.1 + 1e-6);
  });

  it('throws when an attack returns a δ outside the L∞ ball', async () => {
    rogue((p) => p.xs.map(() => Float32Array.from([0.11, 0, 0, 0, 0, 0])));
    await expect(runAttack(engine(), { x, ...untargeted }, settingsFor('pgd', base))).rejects.toThrow(AttackBoundsError);
    await expect(runAttack(engine(), { x, ...untargeted }, settingsFor('pgd', base))).rejects.toThrow(/pgd returned ‖δ‖ = 0\.1(1|09)\d* in linf, outside its ε = 0\.1/);
  });

  it('throws when an attack returns a δ outside the L2 ball, though inside the L∞ one', async () => {
    rogue((p) => p.xs.map(() => Float32Array.from([0.06, 0.06, 0.06, -0.06, 0, 0])));
    await expect(runAttack(engine(), { x, ...untargeted }, settingsFor('pgd', { ...base, norm: 'l2' }))).rejects.toThrow(/outside its ε/);
  });

  it('throws when x + δ leaves [0, 1] with clamp on, and lets it with clamp off', async () => {
    const bright = Float32Array.from([0.95, 0.6, 0.6, 0.5, 0.5, 0.5]);
    rogue((p) => p.xs.map(() => Float32Array.from([0.1, 0, 0, 0, 0, 0])));
    await expect(runAttack(engine(), { x: bright, ...untargeted }, settingsFor('pgd', base))).rejects.toThrow(/x \+ δ = 1\.04\d* at pixel 0, outside \[0, 1\]/);
    const free = await runAttack(engine(), { x: bright, ...untargeted }, settingsFor('pgd', { ...base, clamp: false }));
    expect(free.adversarial.range[1]).toBeCloseTo(1.05, 6);
  });

  it('guards evaluations and training\'s inner maximisation too: they run attacks through the same runner', async () => {
    rogue((p) => p.xs.map(() => Float32Array.from([0.5, 0, 0, 0, 0, 0])));
    const images = [{ name: 'a', x, label: 0 }];
    const evaluation = { attacks: ['pgd' as const], choices: { norm: 'linf' as const, restarts: 1, clamp: true, seed: 1 }, epsilons: [0.1], tolerance: null, batchSize: 1 };
    await expect(evaluateRobustness(engine(), images, evaluation)).rejects.toThrow(AttackBoundsError);
    const trainable = Object.assign(engine(), { parameters: [], weightGradient: jest.fn() }) as unknown as TrainableEngine;
    const training = { norm: 'linf' as const, epsilon: 0.1, attackSteps: 1, stepSize: 0.1, randomStart: false, epochs: 1, batchSize: 1, seed: 1, learningRate: 0.1, momentum: 0, weightDecay: 0 };
    await expect(trainAdversarially(trainable, images, training)).rejects.toThrow(AttackBoundsError);
    expect(trainable.weightGradient).not.toHaveBeenCalled(); // no update from a δ outside the ball
  });

  it('throws on a δ that is not finite', async () => {
    rogue((p) => p.xs.map(() => Float32Array.from([NaN, 0, 0, 0, 0, 0])));
    await expect(runAttack(engine(), { x, ...untargeted }, settingsFor('pgd', { ...base, clamp: false }))).rejects.toThrow(/not 6 finite numbers/);
  });
});

describe('the runner\'s best run per sample', () => {
  afterEach(() => jest.restoreAllMocks());
  const xs: Float32Array[] = [x, Float32Array.from([0.2, 0.2, 0.2, 0.7, 0.7, 0.7]), Float32Array.from([0.5, 0.5, 0.5, 0.5, 0.5, 0.5])];
  const problem: AttackProblem = { xs, labels: [0, 1, 0], targets: [null, null, null], cleanLogits: xs.map(() => new Float32Array(3)) };

  /** Three scripted runs: per sample (success, objective); δ_i = run number / 100 on pixel 0, so the winner is readable. */
  const script: [boolean, number][][] = [
    [[true, 1], [false, 5], [false, 2]],
    [[false, 9], [false, 7], [false, 1]],
    [[true, 0.5], [true, -1], [false, 3]],
  ];
  function scripted(): { calls: { members: number; start: StartPoint }[] } {
    const calls: { members: number; start: StartPoint }[] = [];
    jest.spyOn(pgd, 'run').mockImplementation(async (_engine, sub, _settings, start): Promise<AttackRun> => {
      const run = calls.length;
      calls.push({ members: sub.xs.length, start });
      const rows = sub.xs.map((xi) => script[run][xs.indexOf(xi)]);
      return {
        delta: rows.map(() => Float32Array.from([(run + 1) / 100, 0, 0, 0, 0, 0])),
        logits: rows.map(() => new Float32Array(3)),
        success: rows.map(([s]) => s),
        objective: rows.map(([, o]) => o),
      };
    });
    return { calls };
  }

  it('keeps, per sample, a success over a failure, then the higher objective', async () => {
    const { calls } = scripted();
    const best = await runBatch(engine(), problem, settingsFor('pgd', { ...base, restarts: 3 }), seededRandom(1));
    expect(calls).toEqual([{ members: 3, start: 'zero' }, { members: 3, start: 'random' }, { members: 3, start: 'random' }]);
    expect(best.success).toEqual([true, true, false]);
    expect(best.objective).toEqual([1, -1, 3]); // run 1's success beats run 3's; run 3's success beats run 2's 7; the highest failure
    expect(best.delta.map((d) => Math.round(d[0] * 100))).toEqual([1, 3, 3]);
  });

  it('with untilSuccess, runs later restarts only on the samples not yet broken, and folds them back by index', async () => {
    const { calls } = scripted();
    const seen: number[][] = [];
    const best = await runBatch(engine(), problem, settingsFor('pgd', { ...base, restarts: 3 }), seededRandom(1), {
      untilSuccess: true,
      onRun: (_run, members) => seen.push(members),
    });
    expect(seen).toEqual([[0, 1, 2], [1, 2], [1, 2]]);
    expect(calls.map((c) => c.members)).toEqual([3, 2, 2]);
    expect(best.success).toEqual([true, true, false]);
    expect(best.objective).toEqual([1, -1, 3]);
  });

  it('on the real PGD: the best of several random restarts per sample is at least each sample\'s first run', async () => {
    const settings = settingsFor('pgd', { ...base, epsilon: 0.04, steps: 2, randomStart: true });
    const single = await runBatch(engine(), problem, settings, seededRandom(3));
    const several = await runBatch(engine(), problem, { ...settings, restarts: 4 }, seededRandom(3));
    xs.forEach((_, i) => {
      if (single.success[i]) expect(several.success[i]).toBe(true);
      else if (!several.success[i]) expect(several.objective[i]).toBeGreaterThanOrEqual(single.objective[i]);
    });
  });
});
