import { evaluateRobustness, type EvaluationSettings } from '../../../src/evaluation/robustness';
import { linearEngine } from '../../helpers/linear-engine';

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
  attacks: ['pgd'],
  choices: { norm: 'linf', steps: 10, optimizer: 'sign', loss: 'ce', randomStart: false, restarts: 1, clamp: true, seed: 1 },
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

  it('as a worst case over attacks, runs each only on the images still correct and says which one broke each', async () => {
    const engine = linearEngine(W, [0, 0, 0]);
    const calls: number[] = [];
    const counted = { ...engine, logits: (batch: Parameters<typeof engine.logits>[0]) => (calls.push(batch.count), engine.logits(batch)) };
    const result = await evaluateRobustness(counted, images, { ...settings, attacks: ['apgd-ce', 'apgd-t', 'square'], choices: { ...settings.choices, targets: 2, queries: 20 }, tolerance: null });
    const [a, b, c] = result.images;
    expect(a.atEpsilon.map((p) => p.brokenBy)).toEqual([null, null, 'apgd-ce']);
    expect(b.atEpsilon.map((p) => p.brokenBy)).toEqual([null, null, null]);
    expect(c.atEpsilon.map((p) => p.brokenBy)).toEqual(['clean', 'clean', 'clean']);
    expect(result.epsilons.map((e) => e.brokenBy)).toEqual([
      { 'apgd-ce': 0, 'apgd-t': 0, square: 0 },
      { 'apgd-ce': 0, 'apgd-t': 0, square: 0 },
      { 'apgd-ce': 1, 'apgd-t': 0, square: 0 },
    ]);
    expect(result.epsilons.map((e) => e.robustAccuracy)).toEqual([2 / 3, 2 / 3, 1 / 3]);
    // Square ran on the two images left at 0.02 and 0.04 and on b alone at 0.1: at most 2 per forward pass.
    expect(Math.max(...calls)).toBeLessThanOrEqual(2);
  });

  it('batches the images of one attack into one engine call, up to batchSize', async () => {
    const engine = linearEngine(W, [0, 0, 0]);
    const sizes: number[] = [];
    const counted = { ...engine, lossGradient: (batch: Parameters<typeof engine.lossGradient>[0], loss: Parameters<typeof engine.lossGradient>[1]) => (sizes.push(batch.count), engine.lossGradient(batch, loss)) };
    await evaluateRobustness(counted, images, { ...settings, batchSize: 3, tolerance: null });
    expect(Math.max(...sizes)).toBe(3);
  });
});
