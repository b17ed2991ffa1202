import { evaluateRobustness, type EvaluationSettings } from '../../src/evaluation/robustness';
import { linearEngine } from '../helpers/linear-engine';

// Three classes over 6 pixels. Image a: class 0 by a margin 0.3 over class 1 (flips at
// ε = 0.3/6 = 0.05); image b: class 1 by a wide margin; image c: labelled 2 but the model
// says 0 (wrong already).
const W = [
  [1, 1, 1, 0, 0, 0],
  [0, 0, 0, 1, 1, 1],
  [1, -1, 1, -1, 1, -1],
];
const images = [
  { name: 'a.png', x: Float32Array.from([0.6, 0.6, 0.6, 0.5, 0.5, 0.5]), label: 0 },
  { name: 'b.png', x: Float32Array.from([0.1, 0.1, 0.1, 0.9, 0.9, 0.9]), label: 1 },
  { name: 'c.png', x: Float32Array.from([0.6, 0.6, 0.6, 0.5, 0.5, 0.5]), label: 2 },
];
const settings: EvaluationSettings = {
  attack: { norm: 'linf', steps: 10, stepSize: null, optimizer: 'sign', loss: 'ce', randomStart: false, restarts: 1, clamp: true, seed: 1 },
  epsilons: [0.1, 0.02, 0.04],
  tolerance: 0.002,
  batchSize: 2,
};

describe('evaluateRobustness on an exact linear model', () => {
  it('reports clean accuracy, empirical risk and, per ε, robust accuracy, adversarial risk and success rate', async () => {
    const progress: number[] = [];
    const result = await evaluateRobustness(linearEngine(W, [0, 0, 0]), images, settings, { onProgress: (p) => progress.push(p.done) });
    expect(result.count).toBe(3);
    expect(result.cleanAccuracy).toBeCloseTo(2 / 3, 9);
    expect(result.epsilons.map((e) => e.epsilon)).toEqual([0.02, 0.04, 0.1]); // sorted
    // a survives 0.02 and 0.04 but not 0.1; b survives all; c is wrong throughout.
    expect(result.epsilons.map((e) => e.robustAccuracy)).toEqual([2 / 3, 2 / 3, 1 / 3]);
    expect(result.epsilons.map((e) => e.successRate)).toEqual([0, 0, 0.5]);
    let previous = result.empiricalRisk;
    for (const e of result.epsilons) {
      expect(e.adversarialRisk).toBeGreaterThanOrEqual(previous);
      previous = e.adversarialRisk;
    }
    const [a, b, c] = result.images;
    expect(a.clean).toMatchObject({ prediction: 0, correct: true });
    expect(a.atEpsilon.map((p) => p.correct)).toEqual([true, true, false]);
    expect(a.minimalEpsilon!).toBeGreaterThan(0.05 - 1e-6);
    expect(a.minimalEpsilon!).toBeLessThanOrEqual(0.05 + 0.002 + 1e-6);
    expect(a.lowerBound).toBeGreaterThanOrEqual(0.04);
    expect(b.minimalEpsilon).toBeNull();
    expect(b.lowerBound).toBe(0.1);
    expect(c).toMatchObject({ minimalEpsilon: 0, clean: { correct: false, prediction: 0 } });
    expect(progress.at(-1)).toBe(3 * 3 + 3);
  });

  it('without a tolerance, takes the minimal ε from the grid', async () => {
    const result = await evaluateRobustness(linearEngine(W, [0, 0, 0]), images, { ...settings, tolerance: null });
    expect(result.images.map((r) => r.minimalEpsilon)).toEqual([0.1, null, 0]);
    expect(result.images[0].lowerBound).toBe(0.04);
  });
});
