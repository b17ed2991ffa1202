import { runAttack } from '../../../src/attacks/attack';
import { maxProbes } from '../../../src/attacks/minimal';
import type { AttackSettings } from '../../../src/attacks/types';
import { linearEngine } from '../../helpers/linear-engine';

// Class 0 wins the clean image by 0.3 over class 1; ‖w₁ − w₀‖₁ = 6, so the smallest L∞
// perturbation that flips the label is exactly 0.3 / 6 = 0.05. Class 2 (clean logit 0.1) needs
// 1.7 / ‖w₂ − w₀‖₁ = 1.7 / 5 = 0.34 to pass class 0, and passes class 1 on the way.
const W = [
  [1, 1, 1, 0, 0, 0],
  [0, 0, 0, 1, 1, 1],
  [1, -1, 1, -1, 1, -1],
];
const x = Float32Array.from([0.6, 0.6, 0.6, 0.5, 0.5, 0.5]);
const TRUE_MINIMUM = 0.05;
const settings: AttackSettings = {
  attack: 'pgd', norm: 'linf', epsilon: 0.2, steps: 10, stepSize: 0.05, optimizer: 'sign', loss: 'ce', randomStart: false, restarts: 1, earlyStop: true, clamp: true, seed: 1, quantize: 'round', queries: 0, targets: 0,
};
const engine = () => linearEngine(W, [0, 0, 0]);

describe('minimal-ε search (bisection with warm-started, early-stopped PGD)', () => {
  it('brackets the exact minimum of a linear model within the tolerance', async () => {
    const search = { epsilonMax: 0.2, tolerance: 0.002 };
    const out = await runAttack(engine(), { x, label: null, target: { kind: 'none' } }, settings, {}, search);
    const { minimalEpsilon, lowerBound, probes } = out.search!;
    expect(minimalEpsilon).not.toBeNull();
    expect(minimalEpsilon!).toBeGreaterThan(TRUE_MINIMUM - 1e-6);
    expect(minimalEpsilon!).toBeLessThanOrEqual(TRUE_MINIMUM + search.tolerance + 1e-6);
    expect(lowerBound).toBeLessThanOrEqual(TRUE_MINIMUM + 1e-6);
    expect(minimalEpsilon! - lowerBound).toBeLessThanOrEqual(search.tolerance + 1e-9);
    // The returned adversarial image is the attack at minimalEpsilon, and it succeeds.
    expect(out.adversarial.success).toBe(true);
    expect(out.perturbation.linf).toBeLessThanOrEqual(minimalEpsilon! + 1e-6);
    expect(probes[0]).toEqual({ epsilon: 0.2, success: true });
    expect(probes.length).toBeLessThanOrEqual(maxProbes(search));
    expect(probes.filter((p) => !p.success).every((p) => p.epsilon <= lowerBound + 1e-9)).toBe(true);
  });

  it('reports null and lowerBound = epsilonMax when even epsilonMax fails', async () => {
    const out = await runAttack(engine(), { x, label: null, target: { kind: 'none' } }, settings, {}, { epsilonMax: 0.03, tolerance: 0.002 });
    expect(out.search).toMatchObject({ minimalEpsilon: null, lowerBound: 0.03, probes: [{ epsilon: 0.03, success: false }] });
    expect(out.adversarial.success).toBe(false);
  });

  it('gives 0 for an image that is already misclassified', async () => {
    const out = await runAttack(engine(), { x, label: 1, target: { kind: 'none' } }, settings, {}, { epsilonMax: 0.2, tolerance: 0.002 });
    expect(out.search).toMatchObject({ minimalEpsilon: 0, lowerBound: 0 });
    expect(out.perturbation.linf).toBe(0);
  });

  it('reaches a target at its own minimum (targeted margin: class 2 needs 0.34)', async () => {
    const search = { epsilonMax: 0.5, tolerance: 0.005 };
    const out = await runAttack(engine(), { x, label: null, target: { kind: 'class', classIndex: 2 } }, { ...settings, loss: 'margin', steps: 30 }, {}, search);
    expect(out.search!.minimalEpsilon!).toBeGreaterThan(0.34 - 1e-6);
    expect(out.search!.minimalEpsilon!).toBeLessThanOrEqual(0.34 + search.tolerance + 1e-6);
    expect(out.adversarial.success).toBe(true);
  });

  it('numbers progress steps across probes and reports each probe\'s ε', async () => {
    const seen: { step: number; epsilon: number }[] = [];
    await runAttack(engine(), { x, label: null, target: { kind: 'none' } }, settings, { onProgress: (p) => seen.push(p) }, { epsilonMax: 0.2, tolerance: 0.01 });
    expect(seen.map((p) => p.step)).toEqual(seen.map((_, i) => i));
    expect(new Set(seen.map((p) => p.epsilon)).size).toBeGreaterThan(2);
  });
});
