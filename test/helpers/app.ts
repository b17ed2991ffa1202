import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';

/**
 * The real app (real ResNet50 on wasm in its worker thread), quiet, with test overrides.
 * Tests send many requests from one address, so the rate limit is lifted unless a test sets it.
 */
export async function startApp(overrides: Partial<Config> = {}, waitReady = true): Promise<FastifyInstance> {
  const config = loadConfig({ ...process.env, ADVPROBE_BACKEND: process.env.ADVPROBE_BACKEND ?? 'wasm' }, { ADVPROBE_RATE_LIMIT: 1_000_000, ...overrides });
  const app = await buildApp({ config, fastify: { logger: false } });
  await app.ready();
  if (waitReady) await app.model.whenReady();
  return app;
}
