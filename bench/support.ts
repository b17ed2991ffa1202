/** What the benchmark scripts share: the test data, a real server on loopback, /metrics readings. */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';

export const DATA_DIR = process.env.ADVPROBE_TEST_DATA ?? path.join(__dirname, '..', '..', 'shared', 'data');
export const PIG_PATH = path.join(DATA_DIR, 'tutorial', 'pig.jpg');

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The real app listening on 127.0.0.1 (a free port), model loaded; `env` overrides the environment. */
export async function startServer(env: Record<string, string> = {}): Promise<{ app: FastifyInstance; base: string }> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn', ADVPROBE_RATE_LIMIT: '1000000', ...env });
  const app = await buildApp({ config, fastify: { logger: false } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  await app.model.whenAllReady();
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

/** Sum and count of one histogram series (e.g. advprobe_compute_seconds{type="classify"}). */
export type HistogramReading = { sum: number; count: number };

/** Reads the _sum and _count of histogram `name` with `labels` from /metrics. */
export async function readHistogram(base: string, name: string, labels: string): Promise<HistogramReading> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (suffix: string) => Number(new RegExp(`^${name}_${suffix}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { sum: value('sum'), count: value('count') };
}

/** The mean of a histogram between two readings. */
export const meanBetween = (before: HistogramReading, after: HistogramReading): number => (after.sum - before.sum) / Math.max(1, after.count - before.count);
