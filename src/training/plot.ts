import { escape, niceCeiling } from '../evaluation/plot';
import type { TrainingReport } from './run-training';

const WIDTH = 900;
const HEIGHT = 420;
const TOP = 60;
const BOTTOM = 70;
const LOSS_COLOUR = '#d62728';
const CLEAN_COLOUR = '#1f77b4';
const ROBUST_COLOUR = '#ff7f0e';

const text = (x: number, y: number, s: string, anchor = 'middle', colour = '#333', extra = ''): string =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}" fill="${colour}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13"${extra}>${escape(s)}</text>`;

/**
 * A training run as an SVG: left, the adversarial risk the training saw per epoch (with
 * the clean risk); right, clean and PGD-10 robust accuracy before and after, per split.
 */
export function trainingPlotSvg(report: TrainingReport, title: string): string {
  const plotH = HEIGHT - TOP - BOTTOM;
  const left = { x: 70, w: 330 };
  const right = { x: 500, w: 340 };
  const epochs = report.epochs;
  const riskMax = niceCeiling(Math.max(report.before.train.adversarialRisk, ...epochs.map((e) => e.adversarialRisk)));
  const xOf = (epoch: number): number => left.x + (epochs.length <= 1 ? left.w / 2 : ((epoch - 1) * left.w) / (epochs.length - 1));
  const yRisk = (r: number): number => TOP + plotH * (1 - r / riskMax);
  const yAcc = (a: number): number => TOP + plotH * (1 - a);
  const series = (values: number[], colour: string): string =>
    `<polyline fill="none" stroke="${colour}" stroke-width="2.5" points="${values.map((v, i) => `${xOf(i + 1).toFixed(1)},${yRisk(v).toFixed(1)}`).join(' ')}"/>` +
    values.map((v, i) => `<circle cx="${xOf(i + 1).toFixed(1)}" cy="${yRisk(v).toFixed(1)}" r="4" fill="${colour}"/>`).join('');
  const groups = [
    { label: 'train, before', score: report.before.train },
    { label: 'train, after', score: report.after.train },
    ...(report.before.holdout && report.after.holdout ? [{ label: 'hold-out, before', score: report.before.holdout }, { label: 'hold-out, after', score: report.after.holdout }] : []),
  ];
  const slot = right.w / groups.length;
  const bars = groups.flatMap((g, i) => {
    const x = right.x + i * slot + slot * 0.15;
    const w = slot * 0.33;
    return [
      `<rect x="${x.toFixed(1)}" y="${yAcc(g.score.cleanAccuracy).toFixed(1)}" width="${w.toFixed(1)}" height="${(plotH * g.score.cleanAccuracy).toFixed(1)}" fill="${CLEAN_COLOUR}"/>`,
      `<rect x="${(x + w).toFixed(1)}" y="${yAcc(g.score.robustAccuracy).toFixed(1)}" width="${w.toFixed(1)}" height="${(plotH * g.score.robustAccuracy).toFixed(1)}" fill="${ROBUST_COLOUR}"/>`,
      // Two lines ("train" / "before"): four groups side by side leave little width.
      ...g.label.split(', ').map((line, k) => text(x + w, HEIGHT - BOTTOM + 18 + 15 * k, line)),
    ];
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    text(WIDTH / 2, 26, title, 'middle', '#111', ' font-weight="bold"'),
    `<rect x="${left.x}" y="${TOP}" width="${left.w}" height="${plotH}" fill="none" stroke="#999"/>`,
    ...ticks.map((t) => text(left.x - 8, yRisk(t * riskMax) + 4, String(+(t * riskMax).toPrecision(3)), 'end')),
    ...epochs.map((e) => text(xOf(e.epoch), HEIGHT - BOTTOM + 18, String(e.epoch))),
    text(left.x + left.w / 2, HEIGHT - BOTTOM + 52, 'epoch (training split, each batch before its update)'),
    text(18, TOP + plotH / 2, 'risk (mean cross-entropy)', 'middle', '#333', ` transform="rotate(-90 18 ${TOP + plotH / 2})"`),
    series(epochs.map((e) => e.adversarialRisk), LOSS_COLOUR),
    series(epochs.map((e) => e.empiricalRisk), CLEAN_COLOUR),
    text(left.x + left.w - 6, TOP + 16, 'adversarial (inner attack)', 'end', LOSS_COLOUR),
    text(left.x + left.w - 6, TOP + 32, 'clean', 'end', CLEAN_COLOUR),
    `<rect x="${right.x}" y="${TOP}" width="${right.w}" height="${plotH}" fill="none" stroke="#999"/>`,
    ...ticks.map((t) => text(right.x - 8, yAcc(t) + 4, t.toFixed(2), 'end')),
    ...bars,
    text(right.x + right.w / 2, HEIGHT - BOTTOM + 52, 'accuracy: clean (blue), PGD-10 robust (orange)'),
    '</svg>',
  ].join('\n');
}
