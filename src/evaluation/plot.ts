import type { EvaluationResult } from './robustness';

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 80, top: 50, bottom: 60 };
const ACCURACY_COLOUR = '#1f77b4';
const RISK_COLOUR = '#d62728';

/** A round axis maximum at or above `value` (1, 2, 2.5, 5 × 10^k). */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((v) => v >= value) ?? 10 * power;
}

export const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * Robust accuracy (left axis) and adversarial risk (right axis) against ε in grey levels
 * (ε × 255), as an SVG; ε = 0 is the clean image (clean accuracy, empirical risk).
 */
export function robustnessPlotSvg(result: Pick<EvaluationResult, 'count' | 'cleanAccuracy' | 'empiricalRisk' | 'epsilons'>, title: string): string {
  const points = [{ epsilon: 0, robustAccuracy: result.cleanAccuracy, adversarialRisk: result.empiricalRisk }, ...result.epsilons];
  const xMax = niceCeiling(Math.max(...points.map((p) => p.epsilon * 255)));
  const riskMax = niceCeiling(Math.max(...points.map((p) => p.adversarialRisk)));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (e: number): number => MARGIN.left + (e * 255 * plotW) / xMax;
  const yAccuracy = (a: number): number => MARGIN.top + plotH * (1 - a);
  const yRisk = (r: number): number => MARGIN.top + plotH * (1 - r / riskMax);
  const line = (y: (p: (typeof points)[number]) => number, colour: string): string =>
    `<polyline fill="none" stroke="${colour}" stroke-width="2.5" points="${points.map((p) => `${x(p.epsilon).toFixed(1)},${y(p).toFixed(1)}`).join(' ')}"/>` +
    points.map((p) => `<circle cx="${x(p.epsilon).toFixed(1)}" cy="${y(p).toFixed(1)}" r="4" fill="${colour}"/>`).join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const text = (tx: number, ty: number, s: string, anchor = 'middle', colour = '#333', extra = ''): string =>
    `<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="${anchor}" fill="${colour}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13"${extra}>${escape(s)}</text>`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    text(WIDTH / 2, 28, title, 'middle', '#111', ' font-weight="bold"'),
    // Grid and left axis (accuracy).
    ...ticks.map((t) => `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${yAccuracy(t)}" y2="${yAccuracy(t)}" stroke="#e5e5e5"/>`),
    ...ticks.map((t) => text(MARGIN.left - 8, yAccuracy(t) + 4, t.toFixed(2), 'end', ACCURACY_COLOUR)),
    ...ticks.map((t) => text(WIDTH - MARGIN.right + 8, yAccuracy(t) + 4, String(+(t * riskMax).toPrecision(3)), 'start', RISK_COLOUR)),
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
    ...points.map((p) => text(x(p.epsilon), HEIGHT - MARGIN.bottom + 18, String(+(p.epsilon * 255).toFixed(2)))),
    text(MARGIN.left + plotW / 2, HEIGHT - 16, `ε × 255 (L∞ radius in grey levels; 0 = clean), ${result.count} images`),
    text(18, MARGIN.top + plotH / 2, 'robust accuracy', 'middle', ACCURACY_COLOUR, ` transform="rotate(-90 18 ${MARGIN.top + plotH / 2})"`),
    text(WIDTH - 18, MARGIN.top + plotH / 2, 'adversarial risk (mean CE)', 'middle', RISK_COLOUR, ` transform="rotate(90 ${WIDTH - 18} ${MARGIN.top + plotH / 2})"`),
    line((p) => yAccuracy(p.robustAccuracy), ACCURACY_COLOUR),
    line((p) => yRisk(p.adversarialRisk), RISK_COLOUR),
    '</svg>',
  ];
  return parts.join('\n');
}
