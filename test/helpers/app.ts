import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from '../../src/app';
import type { EngineFactory } from '../../src/runtime/model-service';
import { loadConfig, type Config } from '../../src/config';
import { tinyResNetShapedEngine } from './tiny-engine';

/** The engine the app tests run on: ONNX Runtime, the default on CPU hosts, unless set. */
export const TEST_BACKEND = (process.env.ADVPROBE_BACKEND ?? 'onnxruntime') as Config['ADVPROBE_BACKEND'];

/**
 * The real app (real ResNet50 in its worker thread), quiet, with test overrides.
 * Tests send many requests from one address, so the rate limit is lifted unless a test sets
 * it; so is the overload check (a loaded CI host can starve the test process for a whole
 * sampling interval, which reads as an infinite event-loop delay).
 */
export async function startApp(overrides: Partial<Config> = {}, waitReady = true): Promise<FastifyInstance> {
  const config = loadConfig({ ...process.env, ADVPROBE_BACKEND: TEST_BACKEND }, { ADVPROBE_RATE_LIMIT: 1_000_000, ADVPROBE_MAX_EVENT_LOOP_DELAY_MS: 0, ...overrides });
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
 * `engine` replaces the tiny engine's factory (a gated or slow one, helpers/tiny-engine.ts);
 * `waitReady: false` returns before it has loaded.
 * The overload check is off unless a test sets it (test/http/overload.test.ts does): the
 * tiny engine computes on the event loop, and a sampling interval in which the loop never
 * ran counts as an infinite delay (@fastify/under-pressure), so a busy loaded host got 503
 * overloaded for requests that were the test's point.
 */
export async function startTinyApp(overrides: Partial<Config> = {}, options: TinyAppOptions = {}): Promise<FastifyInstance> {
  const config = loadConfig(process.env, { ADVPROBE_RATE_LIMIT: 1_000_000, ADVPROBE_MAX_EVENT_LOOP_DELAY_MS: 0, ...overrides });
  const app = await buildApp({ config, fastify: options.fastify ?? { logger: false }, engine: options.engine ?? (async () => tinyResNetShapedEngine()) });
  options.beforeReady?.(app);
  await app.ready();
  if (options.waitReady ?? true) await app.model.whenAllReady();
  return app;
}

export interface TinyAppOptions {
  /** Fastify's options (a logger to read, for tests of what is logged). */
  fastify?: FastifyServerOptions;
  /** Another engine of ResNet50's shapes (one that fails on purpose). */
  engine?: EngineFactory;
  /** Runs before the app is ready: extra routes for a test. */
  beforeReady?: (app: FastifyInstance) => void;
  /** false: return before the engine has loaded. */
  waitReady?: boolean;
}
