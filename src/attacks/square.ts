/**
 * square — the Square Attack. Andriushchenko, Croce, Flammarion & Hein, "Square Attack: a
 * query-efficient black-box adversarial attack via random search" (ECCV 2020). Score-based:
 * forward passes only, no gradients — the check against gradient masking.
 *
 * Norm: L∞ or L2, radius ε. Arguments: queries (default 1000: forward passes per image and
 * run, the initial point included; an image stops as soon as it is broken), loss (`margin`,
 * default, or `ce`), clamp (default true), restarts through the wrapper (each run draws a
 * new initial point). Fixed by the paper: p_init = 0.8, the share of the image a square
 * covers, halved at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 iterations of a
 * 10 000-query schedule rescaled to `queries` (as AutoAttack does).
 * L∞: starts from vertical stripes of ±ε per channel; each query moves one random square
 * window to ±ε (a random sign per channel) and keeps it if the loss improved.
 * L2: starts from a 5 × 5 grid of ±"meta pseudo-Gaussian" squares scaled to ‖δ‖₂ = ε; each
 * query moves the mass of a second random window into a new pseudo-Gaussian square.
 * A run ignores the start point it is given: Square always starts from its own random init.
 */
import type { ClassifierEngine } from '../model/engine';
import type { AttackDefinition, AttackProblem, AttackRun, StepHooks } from './algorithm';
import { activeIndices, add, batchLogits } from './batch';
import { isSuccess, objectiveValue } from './losses';
import { clampToBox, norms } from './projection';
import type { Random } from './random';
import type { AttackSettings } from './types';

// Math read once per module, not per element: a global lookup inside a hot loop costs
// ~70x more in jest's vm context (the test suite); outside it, nothing changes.
const { floor, max, min, round, sqrt } = Math;

export const P_INIT = 0.8;
const CHANNELS = 3;

export const DEFAULT_QUERIES = 1000;

export const square: AttackDefinition<'square'> = {
  name: 'square',
  title: 'Square (no gradients)',
  doc: { paper: 'Andriushchenko et al. 2020', fixed: "p_init 0.8 with the paper's schedule rescaled to `queries`", cost: 'up to `queries` forward, no gradients' },
  arguments: { queries: String(DEFAULT_QUERIES), loss: 'margin' },
  losses: ['margin', 'ce'],
  resolve: (choices) => ({ queries: choices.queries ?? DEFAULT_QUERIES }),
  // Score-based: its forward passes are bounded by ADVPROBE_MAX_QUERIES, not the step limit.
  budget: (settings) => ({ gradient: 0, forward: settings.queries, of: 'queries' }),
  steps: (settings) => settings.queries,
  run: (engine, problem, settings, _start, random, hooks) => squareRun(engine, problem, settings, random, hooks),
};

/** The share of the image one square covers at this iteration (the paper's schedule, rescaled to 10 000 queries). */
export function squareFraction(iteration: number, queries: number, pInit = P_INIT): number {
  const it = floor((iteration / queries) * 10000);
  const halvings = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000].filter((edge) => it > edge).length;
  return pInit / 2 ** halvings;
}

interface Geometry {
  height: number;
  width: number;
}

export async function squareRun(engine: ClassifierEngine, problem: AttackProblem, settings: AttackSettings, random: Random, hooks: StepHooks = {}): Promise<AttackRun> {
  const { xs, labels, targets } = problem;
  const geometry = { height: engine.info.inputHeight, width: engine.info.inputWidth };
  const objectiveOf = (z: Float32Array, i: number): number => objectiveValue(settings.loss, z, labels[i], targets[i]);
  const finish = (i: number, d: Float32Array): Float32Array => {
    if (settings.clamp) clampToBox(xs[i], d);
    return d;
  };

  await hooks.beforeStep?.();
  const delta = xs.map((_, i) => finish(i, settings.norm === 'linf' ? stripes(geometry, settings.epsilon, random) : gridInit(geometry, settings.epsilon, random)));
  let logits = await batchLogits(engine, xs.map((x, i) => add(x, delta[i])));
  const objective = logits.map((z, i) => objectiveOf(z, i));
  const success = logits.map((z, i) => isSuccess(z, labels[i], targets[i]));
  report(hooks, 0, xs.map((_, i) => i), objective, logits, delta);

  for (let iteration = 1; iteration < settings.queries; iteration++) {
    const active = activeIndices(success);
    if (active.length === 0) break;
    const p = squareFraction(iteration - 1, settings.queries);
    const candidates = active.map((i) => finish(i, settings.norm === 'linf' ? linfCandidate(delta[i], geometry, p, settings.epsilon, random) : l2Candidate(delta[i], geometry, p, settings.epsilon, random)));
    await hooks.beforeStep?.();
    const out = await batchLogits(engine, active.map((i, j) => add(xs[i], candidates[j])));
    active.forEach((i, j) => {
      const value = objectiveOf(out[j], i);
      const broken = isSuccess(out[j], labels[i], targets[i]);
      if (value > objective[i] || broken) {
        delta[i] = candidates[j];
        logits[i] = out[j];
        objective[i] = value;
        success[i] = broken;
      }
    });
    report(hooks, iteration, active, objective, logits, delta);
  }
  logits = logits.map((z) => z.slice());
  return { delta, logits, success, objective };
}

/** The side of a square window covering share p of the image (at least `least`, at most the image). */
function side({ height, width }: Geometry, p: number, least: number): number {
  let s = max(round(sqrt((p * height * width * CHANNELS) / CHANNELS)), least);
  if (least === 3 && s % 2 === 0) s++; // L2's squares have odd sides
  return min(s, height, width);
}

/** A window's top-left corner, uniform as the reference draws it. */
const corner = (length: number, s: number, random: Random): number => random.int(max(length - s, 1));

const at = (g: Geometry, row: number, col: number, ch: number): number => (row * g.width + col) * CHANNELS + ch;

/** L∞ init: each column of each channel is +ε or −ε. */
function stripes(g: Geometry, epsilon: number, random: Random): Float32Array {
  const d = new Float32Array(g.height * g.width * CHANNELS);
  for (let col = 0; col < g.width; col++) {
    for (let ch = 0; ch < CHANNELS; ch++) {
      const v = random.next() < 0.5 ? -epsilon : epsilon;
      for (let row = 0; row < g.height; row++) d[at(g, row, col, ch)] = v;
    }
  }
  return d;
}

/** L∞ query: one window, per channel shifted by ±2ε and clipped to the ball (so it lands on ±ε). */
function linfCandidate(current: Float32Array, g: Geometry, p: number, epsilon: number, random: Random): Float32Array {
  const d = current.slice();
  const s = side(g, p, 1);
  const top = corner(g.height, s, random);
  const left = corner(g.width, s, random);
  for (let ch = 0; ch < CHANNELS; ch++) {
    const shift = random.next() < 0.5 ? -2 * epsilon : 2 * epsilon;
    for (let row = top; row < top + s; row++) {
      for (let col = left; col < left + s; col++) {
        const k = at(g, row, col, ch);
        d[k] = min(epsilon, max(-epsilon, d[k] + shift));
      }
    }
  }
  return d;
}

/** The reference's "eta_rectangles": nested rectangles weighted 1/(n+1)², unit L2 norm. */
function rectangles(rows: number, cols: number): Float32Array {
  const d = new Float32Array(rows * cols);
  let r0 = floor(rows / 2);
  let c0 = floor(cols / 2);
  const rings = max(floor(rows / 2) + 1, floor(cols / 2) + 1);
  for (let n = 0; n < rings; n++, r0--, c0--) {
    for (let r = max(r0, 0); r < min(r0 + 2 * n + 1, rows); r++) {
      for (let c = max(c0, 0); c < min(c0 + 2 * n + 1, cols); c++) d[r * cols + c] += 1 / (n + 1) ** 2;
    }
  }
  return unit(d);
}

/** The meta pseudo-Gaussian square of side s: + rectangles over − rectangles, transposed half the time. */
export function pseudoGaussian(s: number, random: Random): Float32Array {
  const half = floor(s / 2);
  const d = new Float32Array(s * s);
  if (half > 0) d.set(rectangles(half, s), 0);
  const lower = rectangles(s - half, s);
  for (let k = 0; k < lower.length; k++) d[half * s + k] = -lower[k];
  unit(d);
  if (random.next() <= 0.5) return d;
  const t = new Float32Array(s * s);
  for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) t[c * s + r] = d[r * s + c];
  return t;
}

/** L2 init: a 5 × 5 grid of pseudo-Gaussian squares with a random sign per square and channel, scaled to ‖δ‖₂ = ε. */
function gridInit(g: Geometry, epsilon: number, random: Random): Float32Array {
  const d = new Float32Array(g.height * g.width * CHANNELS);
  const s = max(floor(min(g.height, g.width) / 5), 1);
  const rowsOf = floor(g.height / s);
  const colsOf = floor(g.width / s);
  const top = floor((g.height - s * rowsOf) / 2);
  const left = floor((g.width - s * colsOf) / 2);
  for (let i = 0; i < rowsOf; i++) {
    for (let j = 0; j < colsOf; j++) {
      const bump = pseudoGaussian(s, random);
      for (let ch = 0; ch < CHANNELS; ch++) {
        const sign = random.next() < 0.5 ? -1 : 1;
        for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) d[at(g, top + i * s + r, left + j * s + c, ch)] += sign * bump[r * s + c];
      }
    }
  }
  return scaleTo(d, epsilon);
}

/** L2 query: window 1 gets a fresh pseudo-Gaussian plus its old direction; window 2's mass moves there; then ‖δ‖₂ = ε. */
function l2Candidate(current: Float32Array, g: Geometry, p: number, epsilon: number, random: Random): Float32Array {
  const d = current.slice();
  const s = side(g, p, 3);
  const [top1, left1] = [corner(g.height, s, random), corner(g.width, s, random)];
  const [top2, left2] = [corner(g.height, s, random), corner(g.width, s, random)];
  const inWindow = (row: number, col: number, top: number, left: number): boolean => row >= top && row < top + s && col >= left && col < left + s;
  let unionSquares = 0;
  for (let row = 0; row < g.height; row++) {
    for (let col = 0; col < g.width; col++) {
      if (!inWindow(row, col, top1, left1) && !inWindow(row, col, top2, left2)) continue;
      for (let ch = 0; ch < CHANNELS; ch++) unionSquares += d[at(g, row, col, ch)] ** 2;
    }
  }
  const imageSquares = norms(d).l2 ** 2;
  const mass = sqrt(max(epsilon * epsilon - imageSquares, 0) / CHANNELS + unionSquares);
  const windows: Float32Array[] = [];
  for (let ch = 0; ch < CHANNELS; ch++) {
    const old = new Float32Array(s * s);
    for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) old[r * s + c] = d[at(g, top1 + r, left1 + c, ch)];
    const oldNorm = norms(old).l2;
    const bump = pseudoGaussian(s, random);
    const sign = random.next() < 0.5 ? -1 : 1;
    const w = bump.map((v, k) => sign * v + old[k] / (1e-12 + oldNorm));
    windows.push(scaleTo(w, mass));
  }
  for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) for (let ch = 0; ch < CHANNELS; ch++) d[at(g, top2 + r, left2 + c, ch)] = 0;
  for (let ch = 0; ch < CHANNELS; ch++) for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) d[at(g, top1 + r, left1 + c, ch)] = windows[ch][r * s + c];
  return scaleTo(d, epsilon);
}

/** Scales v in place to L2 norm `length` (a zero vector stays zero). */
function scaleTo(v: Float32Array, length: number): Float32Array {
  const n = norms(v).l2;
  if (n > 0) for (let k = 0; k < v.length; k++) v[k] *= length / n;
  return v;
}

const unit = (v: Float32Array): Float32Array => scaleTo(v, 1);

function report(hooks: StepHooks, step: number, active: number[], objective: number[], logits: Float32Array[], delta: Float32Array[]): void {
  if (!hooks.onStep) return;
  const count = objective.length;
  const objectives = Array.from({ length: count }, () => NaN);
  const stepLogits: (Float32Array | null)[] = Array.from({ length: count }, () => null);
  const deltas: (Float32Array | null)[] = Array.from({ length: count }, () => null);
  for (const i of active) {
    objectives[i] = objective[i];
    stepLogits[i] = logits[i];
    deltas[i] = delta[i].slice();
  }
  hooks.onStep(step, objectives, stepLogits, deltas);
}
