import { buildApp } from './app';
import { loadConfig } from './config';
import { serve, serverOptions } from './shutdown';

/** Starts the service: config from the environment, listen, and a graceful stop on signals (shutdown.ts). */
async function main(): Promise<void> {
  const config = loadConfig();
  const app = await buildApp({ config, fastify: serverOptions(config) });
  await serve(app, config);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
