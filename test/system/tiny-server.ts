import { buildApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { ClassifierEngine } from '../../src/model/engine';
import { serve, serverOptions } from '../../src/shutdown';
import { tinyResNetShapedEngine } from '../helpers/tiny-engine';

/**
 * A real server process (src/server.ts's path: serverOptions, serve, signals) over the tiny
 * engine of ResNet50's shapes, each model call slowed by TINY_STEP_MS: jobs that run for
 * seconds at no CPU cost, for tests about the process (shutdown) rather than the model.
 */
function slowed(engine: ClassifierEngine, ms: number): ClassifierEngine {
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  return {
    ...engine,
    logits: async (batch) => (await pause(), engine.logits(batch)),
    lossGradient: async (batch, loss) => (await pause(), engine.lossGradient(batch, loss)),
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const stepMs = Number(process.env.TINY_STEP_MS ?? 50);
  const app = await buildApp({ config, fastify: serverOptions(config), engine: async () => slowed(tinyResNetShapedEngine(), stepMs) });
  await serve(app, config);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
