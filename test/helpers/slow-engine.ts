import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import type { ClassifierEngine } from '../../src/model/engine';
import { tinyResNetShapedEngine } from './tiny-engine';

/** `engine` with every model call slowed by `ms`: jobs that take seconds at no CPU cost. */
export function slowed(engine: ClassifierEngine, ms: number): ClassifierEngine {
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  return {
    ...engine,
    logits: async (batch) => (await pause(), engine.logits(batch)),
    lossGradient: async (batch, loss) => (await pause(), engine.lossGradient(batch, loss)),
  };
}

/** The app on the tiny engine of ResNet50's shapes, each model call `stepMs` long (test/helpers/app.ts's startTinyApp, slowed). */
export async function startSlowTinyApp(stepMs: number, overrides: Partial<Config> = {}): Promise<FastifyInstance> {
  const config = loadConfig(process.env, { ADVPROBE_RATE_LIMIT: 1_000_000, ...overrides });
  const app = await buildApp({ config, fastify: { logger: false }, engine: async () => slowed(tinyResNetShapedEngine(), stepMs) });
  await app.ready();
  await app.model.whenAllReady();
  return app;
}
