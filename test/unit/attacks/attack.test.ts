import { runAttack } from '../../../src/attacks/attack';
import { pgdRun } from '../../../src/attacks/pgd';
import { norms } from '../../../src/attacks/projection';
import { seededRandom } from '../../../src/attacks/random';
import { AttackCancelledError, AttackInputError, type AttackSettings } from '../../../src/attacks/types';
import { linearEngine } from '../../helpers/linear-engine';

// Three classes over a 6-pixel image; class 0 wins on the clean image by a small margin.
const W = [
  [1, 1, 1, 0, 0, 0],
  [0, 0, 0, 1, 1, 1],
  [1, -1, 1, -1, 1, -1],
];
const x = Float32Array.from([0.6, 0.6, 0.6, 0.5, 0.5, 0.5]);
const settings: AttackSettings = {
  attack: 'pgd', norm: 'linf', epsilon: 0.1, steps: 10, stepSize: 0.025, optimizer: 'sign', loss: 'ce', randomStart: false, restarts: 1, earlyStop: false, clamp: true, seed: 1, quantize: 'round', queries: 0, targets: 0,
};
const engine = () => linearEngine(W, [0, 0, 0]);

describe('runAttack on an exact linear model', () => {
  it('flips the label within the L∞ ball and keeps x + δ in [0, 1]', async () => {
    const out = await runAttack(engine(), { x, label: null, target: { kind: 'none' } }, settings);
    expect(out.label).toBe(0);
    expect(out.adversarial.success).toBe(true);
    expect(out.perturbation.linf).toBeLessThanOrEqual(0.1 + 1e-6);
    expect(Math.min(...out.adversarial.x)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...out.adversarial.x)).toBeLessThanOrEqual(1);
    expect(out.losses).toHaveLength(10);
    expect(out.losses[9].loss).toBeLessThan(out.losses[0].loss); // the minimised objective falls
  });

  it('takes exactly α·sign(∇) steps: after one step δ = −α on class 0 pixels, +α on class 1 pixels', async () => {
    const run = await pgdRun(engine(), { xs: [x], labels: [0], targets: [null], cleanLogits: [Float32Array.from([1.8, 1.5, 0.5])] }, { ...settings, steps: 1 }, 'zero', seededRandom(1));
    // ∂CE/∂x = Σ_j (p_j − [j=0]) W_j: negative on pixels 0..2 and positive on 3..5 (pixel signs from W[2] mix in)
    expect(Array.from(run.delta[0]).map((v) => Math.round(v * 1000) / 1000)).toEqual([-0.025, -0.025, -0.025, 0.025, 0.025, 0.025]);
  });

  it('projects onto the L2 ball', async () => {
    const out = await runAttack(engine(), { x, label: 0, target: { kind: 'none' } }, { ...settings, norm: 'l2', epsilon: 0.05, stepSize: 0.05 });
    expect(out.perturbation.l2).toBeLessThanOrEqual(0.05 + 1e-6);
  });

  it('reaches a target with the targeted objective, and with the margin loss', async () => {
    for (const loss of ['ce', 'margin'] as const) {
      const out = await runAttack(engine(), { x, label: null, target: { kind: 'class', classIndex: 2 } }, { ...settings, epsilon: 0.5, steps: 40, stepSize: 0.03, loss });
      expect(out.target).toBe(2);
      expect(out.adversarial.success).toBe(true);
      expect(out.adversarial.probabilities.indexOf(Math.max(...out.adversarial.probabilities))).toBe(2);
    }
  });

  it('stops early once successful, keeping the successful δ', async () => {
    const e = engine();
    const out = await runAttack(e, { x, label: null, target: { kind: 'none' } }, { ...settings, steps: 50, earlyStop: true });
    expect(out.adversarial.success).toBe(true);
    expect(out.losses.length).toBeLessThan(50);
  });

  it('is reproducible with a seed (random start, random target) and differs with another', async () => {
    const s = { ...settings, randomStart: true, restarts: 3 };
    const a = await runAttack(engine(), { x, label: null, target: { kind: 'random' } }, s);
    const b = await runAttack(engine(), { x, label: null, target: { kind: 'random' } }, s);
    expect(b.adversarial.x).toEqual(a.adversarial.x);
    expect(b.target).toBe(a.target);
    expect(a.target).not.toBe(0);
    const c = await runAttack(engine(), { x, label: null, target: { kind: 'none' } }, { ...s, seed: 2 });
    expect(c.adversarial.x).not.toEqual(a.adversarial.x);
  });

  it('keeps the best run over restarts: a failing first run does not hide a later success', async () => {
    // Too few steps from zero; random starts near the boundary can succeed.
    const out = await runAttack(engine(), { x, label: null, target: { kind: 'none' } }, { ...settings, steps: 1, stepSize: 0.001, epsilon: 0.2, restarts: 20 });
    expect(out.losses).toHaveLength(20);
    expect(out.adversarial.success).toBe(true);
  });

  it('resolves least-likely and refuses a target equal to the label', async () => {
    const ll = await runAttack(engine(), { x, label: null, target: { kind: 'least-likely' } }, settings);
    expect(ll.target).toBe(2);
    await expect(runAttack(engine(), { x, label: null, target: { kind: 'class', classIndex: 0 } }, settings)).rejects.toBeInstanceOf(AttackInputError);
  });

  it('stops at the next step when cancelled', async () => {
    let steps = 0;
    const cancelAfter3 = async () => {
      if (++steps > 3) throw new AttackCancelledError();
    };
    await expect(runAttack(engine(), { x, label: null, target: { kind: 'none' } }, { ...settings, steps: 100 }, { beforeStep: cancelAfter3 })).rejects.toBeInstanceOf(AttackCancelledError);
    expect(steps).toBe(4);
  });

  it('quantises to 8 bits within ε + 0.5/255, and refines on the grid when rounding undoes the attack', async () => {
    // Class 0 leads class 1 by 2 grey levels: a 0.4-level step flips it in float, but rounds back.
    const xq = Float32Array.from([150, 150, 150, 149, 149, 150], (v) => v / 255);
    const tight = { ...settings, epsilon: 1 / 255, steps: 1, stepSize: 0.4 / 255 };
    const rounded = await runAttack(engine(), { x: xq, label: 0, target: { kind: 'none' } }, { ...tight, quantize: 'round' });
    expect(rounded.quantizedPerturbation.linf).toBeLessThanOrEqual(1 / 255 + 0.5 / 255 + 1e-6);
    const refined = await runAttack(engine(), { x: xq, label: 0, target: { kind: 'none' } }, { ...tight, quantize: 'refine' });
    expect(refined.quantized.success).toBe(true);
    expect(refined.quantizedPerturbation.linf).toBeLessThanOrEqual(1 / 255 + 1e-6);
    expect(rounded.adversarial.success).toBe(true);
    expect(rounded.quantized.success).toBe(false);
    expect(refined.quantized.refineSteps).toBeGreaterThan(0);
  });

  it('measures norms', () => {
    expect(norms(Float32Array.from([3, -4]))).toEqual({ linf: 4, l2: 5 });
  });
});
