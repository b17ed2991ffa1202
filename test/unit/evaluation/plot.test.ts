import { robustnessPlotSvg } from '../../../src/evaluation/plot';

describe('robustnessPlotSvg', () => {
  it('draws both curves from ε = 0 (clean) and labels the risk axis with round numbers', () => {
    const svg = robustnessPlotSvg(
      { count: 100, cleanAccuracy: 0.89, empiricalRisk: 0.43, epsilons: [{ epsilon: 1 / 255, robustAccuracy: 0.02, adversarialRisk: 19.3, successRate: 0.98, brokenBy: {} }, { epsilon: 4 / 255, robustAccuracy: 0.01, adversarialRisk: 55.3, successRate: 0.99, brokenBy: {} }] },
      'ResNet50 <PGD-10>',
    );
    expect(svg).toContain('ResNet50 &lt;PGD-10>');
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(6); // three points per curve, clean included
    // Right axis 0…100 in quarters; whole numbers keep their zeros.
    for (const label of ['0', '25', '50', '75', '100']) expect(svg).toContain(`>${label}</text>`);
  });
});
