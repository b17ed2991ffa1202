import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { tinyResNetShapedEngine } from './tiny-engine';

/** The engine the app tests run on: ONNX Runtime, the default on CPU hosts, unless set. */
export const TEST_BACKEND = (process.env.ADVPROBE_BACKEND ?? 'onnxruntime') as Config['ADVPROBE_BACKEND'];

/** Both CPU engines, for the suites that must pass on each. */
export const CPU_BACKENDS: Config['ADVPROBE_BACKEND'][] = ['onnxruntime', 'wasm'];

/**
 * The real app (real ResNet50 in its worker thread), quiet, with test overrides.
 * Tests send many requests from one address, so the rate limit is lifted unless a test sets it.
 */
export async function startApp(overrides: Partial<Config> = {}, waitReady = true): Promise<FastifyInstance> {
  const config = loadConfig({ ...process.env, ADVPROBE_BACKEND: TEST_BACKEND }, { ADVPROBE_RATE_LIMIT: 1_000_000, ...overrides });
  const app = await buildApp({ config, fastify: { logger: false } });
  await app.ready();
  // Every worker: leak checks sum the tensors of the ready ones.
  if (waitReady) await app.model.whenAllReady();
  return app;
}

/**
 * The real app on an injected tiny engine of ResNet50's shapes (224×224×3 → 1000 classes,
 * test/helpers/tiny-engine.ts) instead of the model on threads: for tests whose point is
 * the HTTP layer (validation, limits, auth, errors, documentation). Ready in milliseconds.
 */
export async function startTinyApp(overrides: Partial<Config> = {}): Promise<FastifyInstance> {
  const config = loadConfig(process.env, { ADVPROBE_RATE_LIMIT: 1_000_000, ...overrides });
  const app = await buildApp({ config, fastify: { logger: false }, engine: async () => tinyResNetShapedEngine() });
  await app.ready();
  await app.model.whenAllReady();
  return app;
}
