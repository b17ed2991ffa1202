import { apgdCheckpoints, apgdRun } from '../../../src/attacks/apgd';
import { runAttack } from '../../../src/attacks/attack';
import { settingsFor, type AttackChoices } from '../../../src/attacks/defaults';
import { dlrGradient, dlrValue } from '../../../src/attacks/losses';
import { seededRandom } from '../../../src/attacks/random';
import { squareFraction } from '../../../src/attacks/square';
import type { AttackName } from '../../../src/attacks/types';
import type { ClassifierEngine, ImageBatch, LossCoefficients } from '../../../src/model/engine';
import { linearEngine } from '../../helpers/linear-engine';

// Three classes over 6 pixels (a 1 × 2 RGB image): x is class 0 by a margin of 0.3 over class 1.
const W = [
  [1, 1, 1, 0, 0, 0],
  [0, 0, 0, 1, 1, 1],
  [1, -1, 1, -1, 1, -1],
];
const x = Float32Array.from([0.6, 0.6, 0.6, 0.5, 0.5, 0.5]);
const choices: AttackChoices = { norm: 'linf', epsilon: 0.1, restarts: 1, earlyStop: false, clamp: true, seed: 1, quantize: 'round' };
const settings = (attack: AttackName, extra: Partial<AttackChoices> = {}) => settingsFor(attack, { ...choices, ...extra });
const untargeted = { label: null, target: { kind: 'none' as const } };

describe('the DLR loss', () => {
  const z = Float32Array.from([3, 1, 2, 0.5, -1]);
  it('is −(z_y − max_{j≠y} z_j)/(z_π1 − z_π3) untargeted and −(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2) targeted', () => {
    expect(dlrValue(z, 0, null)).toBeCloseTo(-(3 - 2) / (3 - 1), 9);
    expect(dlrValue(z, 0, 3)).toBeCloseTo(-(3 - 0.5) / (3 - (1 + 0.5) / 2), 9);
    expect(dlrValue(z, 4, null)).toBeCloseTo(-(-1 - 3) / (3 - 1), 9); // the label need not be on top
  });
  it('has the gradient its finite differences give', () => {
    for (const target of [null, 3]) {
      const g = dlrGradient(z, 0, target);
      for (let k = 0; k < z.length; k++) {
        const h = 1e-3;
        const up = z.slice();
        const down = z.slice();
        up[k] += h;
        down[k] -= h;
        expect(g[k]).toBeCloseTo((dlrValue(up, 0, target) - dlrValue(down, 0, target)) / (2 * h), 4);
      }
    }
  });
});

describe('fgsm', () => {
  it('takes one signed step of size ε: one gradient pass, one forward pass', async () => {
    const out = await runAttack(linearEngine(W, [0, 0, 0]), { x, ...untargeted }, settings('fgsm'));
    const delta = out.adversarial.x.map((v, i) => v - x[i]);
    for (const d of delta) expect(Math.abs(d)).toBeCloseTo(0.1, 6);
    expect(out.calls).toEqual({ forward: 1, gradient: 1 });
    expect(out.adversarial.success).toBe(true);
  });
  it('with randomStart (FGSM-RS) steps 1.25·ε from a random point and stays in the ball', async () => {
    const s = settings('fgsm', { randomStart: true });
    expect(s.stepSize).toBeCloseTo(0.125, 9);
    const out = await runAttack(linearEngine(W, [0, 0, 0]), { x, ...untargeted }, s);
    expect(out.perturbation.linf).toBeLessThanOrEqual(0.1 + 1e-6);
  });
});

describe('apgd', () => {
  it('checks its step size on the paper\'s schedule p₀ = 0, p₁ = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)', () => {
    expect(apgdCheckpoints(100)).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
    expect(apgdCheckpoints(10)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('halves η when the loss stops rising (a linear model reaches its corner in one step)', async () => {
    const checks: { step: number; halved: boolean; eta: number }[] = [];
    const problem = { xs: [x], labels: [0], targets: [null], cleanLogits: [Float32Array.from([1.8, 1.5, 0])] };
    await apgdRun(linearEngine(W, [0, 0, 0]), problem, { ...settings('apgd-ce', { randomStart: false }), loss: 'ce', earlyStop: false }, 'zero', seededRandom(1), {}, {
      onCheckpoint: (step, _i, check) => checks.push({ step, halved: check.halved, eta: check.eta }),
    });
    expect(checks[0]).toEqual({ step: 2, halved: true, eta: 0.1 }); // 2ε → ε
    expect(checks[1].eta).toBeCloseTo(0.05, 9);
  });

  it('restarts from the best point when it halves after the loss fell', async () => {
    const engine = sineEngine();
    const checks: { step: number; halved: boolean; eta: number; loss: number; best: { loss: number; delta: Float32Array } }[] = [];
    const deltas = new Map<number, Float32Array>();
    const start = Float32Array.from([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    const problem = { xs: [start], labels: [0], targets: [null], cleanLogits: [new Float32Array(2)] };
    const run = await apgdRun(engine, problem, { ...settings('apgd-ce', { epsilon: 0.5, steps: 20 }), loss: 'ce' }, 'zero', seededRandom(1), {
      onStep: (step, _o, _l, d) => deltas.set(step, d[0]!),
    }, { onCheckpoint: (step, _i, check) => checks.push({ step, ...check }) });
    const restart = checks.find((c) => c.halved && c.loss < c.best.loss && deltas.has(c.step + 1));
    expect(restart).toBeDefined();
    // The next iterate starts from the best point: one damped step of the halved η away from it.
    const next = deltas.get(restart!.step + 1)!;
    const gap = Math.max(...next.map((v, i) => Math.abs(v - restart!.best.delta[i])));
    expect(gap).toBeLessThanOrEqual(0.75 * restart!.eta + 1e-6);
    // The best loss only ever rises, and the run returns a point at least as good as the start.
    checks.slice(1).forEach((c, j) => expect(c.best.loss).toBeGreaterThanOrEqual(checks[j].best.loss));
    expect(run.success[0]).toBe(true);
  });

  it('apgd-ce and apgd-dlr break the linear model within the ball, with PGD\'s budget', async () => {
    for (const attack of ['apgd-ce', 'apgd-dlr'] as const) {
      const out = await runAttack(linearEngine(W, [0, 0, 0]), { x, ...untargeted }, settings(attack));
      expect(out.adversarial.success).toBe(true);
      expect(out.perturbation.linf).toBeLessThanOrEqual(0.1 + 1e-6);
      expect(out.calls).toEqual({ forward: 1, gradient: 10 });
    }
  });

  it('apgd-t aims at the most likely other classes in turn and reports untargeted success', async () => {
    // Five classes: the label 0 ahead of 1, 2, 3, 4.
    const W5 = [...W, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [-1, -1, -1, -1, -1, -1]];
    const out = await runAttack(linearEngine(W5, [0, 0, 0, 0, 0]), { x, ...untargeted }, settings('apgd-t', { targets: 3, steps: 5 }));
    expect(out.target).toBeNull();
    expect(out.adversarial.success).toBe(true);
    expect(out.calls.gradient).toBeLessThanOrEqual(15);
    expect(out.perturbation.linf).toBeLessThanOrEqual(0.1 + 1e-6);
  });
});

describe('square', () => {
  // A wide margin: no point of the small ball flips it.
  const robust = Float32Array.from([0.9, 0.9, 0.9, 0.1, 0.1, 0.1]);

  for (const norm of ['linf', 'l2'] as const) {
    it(`(${norm}) stays in the ball and uses exactly its query budget on an image it cannot break`, async () => {
      const epsilon = norm === 'linf' ? 0.01 : 0.02;
      const engine = linearEngine(W, [0, 0, 0]);
      const out = await runAttack(engine, { x: robust, ...untargeted }, settings('square', { norm, epsilon, queries: 137 }));
      expect(out.adversarial.success).toBe(false);
      expect(out.calls).toEqual({ forward: 137, gradient: 0 });
      const size = norm === 'linf' ? out.perturbation.linf : out.perturbation.l2;
      expect(size).toBeLessThanOrEqual(epsilon + 1e-6);
      expect(size).toBeGreaterThan(0);
    });
  }

  it('breaks a breakable image with forward passes only, and stops there', async () => {
    const out = await runAttack(linearEngine(W, [0, 0, 0]), { x, ...untargeted }, settings('square', { queries: 500 }));
    expect(out.adversarial.success).toBe(true);
    expect(out.calls.gradient).toBe(0);
    expect(out.calls.forward).toBeLessThan(500);
    expect(out.perturbation.linf).toBeLessThanOrEqual(0.1 + 1e-6);
  });

  it('shrinks its squares on the paper\'s schedule, rescaled to the budget', () => {
    expect(squareFraction(0, 10000)).toBe(0.8);
    expect(squareFraction(11, 10000)).toBe(0.4);
    expect(squareFraction(9000, 10000)).toBeCloseTo(0.8 / 512, 12);
    expect(squareFraction(2, 1000)).toBe(0.4); // 2/1000 of the budget is iteration 20 of 10 000
  });
});

/**
 * A two-class model whose class-1 logit is 3·sin(Σx): the loss of class 0 rises and falls
 * along the ball, so large steps overshoot (what APGD's step halving is for).
 */
function sineEngine(): ClassifierEngine {
  const logitsOf = (data: Float32Array, n: number): [number, number] => {
    let sum = 0;
    for (let i = 0; i < 6; i++) sum += data[n * 6 + i];
    return [3 * Math.sin(sum), Math.cos(sum)];
  };
  return {
    info: { model: 'sine', backend: 'cpu', inputHeight: 1, inputWidth: 2, numClasses: 2 },
    async logits(batch: ImageBatch) {
      const out = new Float32Array(batch.count * 2);
      for (let n = 0; n < batch.count; n++) out.set([0, logitsOf(batch.data, n)[0]], n * 2);
      return out;
    },
    async lossGradient(batch: ImageBatch, { a, b }: LossCoefficients) {
      const logits = new Float32Array(batch.count * 2);
      const loss = new Float32Array(batch.count);
      const gradient = new Float32Array(batch.count * 6);
      for (let n = 0; n < batch.count; n++) {
        const [z1, cos] = logitsOf(batch.data, n);
        const z = [0, z1];
        logits.set(z, n * 2);
        const lse = Math.log(Math.exp(z[0]) + Math.exp(z[1]));
        const sumA = a[n * 2] + a[n * 2 + 1];
        loss[n] = a[n * 2] * (z[0] - lse) + a[n * 2 + 1] * (z[1] - lse) + b[n * 2 + 1] * z[1];
        const dz1 = a[n * 2 + 1] - sumA * Math.exp(z[1] - lse) + b[n * 2 + 1];
        for (let i = 0; i < 6; i++) gradient[n * 6 + i] = dz1 * 3 * cos;
      }
      return { logits, loss, gradient };
    },
    tensorCount: () => 0,
    dispose: () => undefined,
  };
}
