import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';

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
