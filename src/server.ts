import { buildApp } from './app';
import { loadConfig } from './config';

/** Starts the service: config from the environment, listen, and a graceful stop on signals. */
async function main(): Promise<void> {
  const config = loadConfig();
  const app = await buildApp({
    config,
    fastify: {
      logger: { level: config.LOG_LEVEL },
      requestTimeout: config.ADVPROBE_JOB_TIMEOUT_MS + 30_000,
      connectionTimeout: 60_000,
      return503OnClosing: true,
    },
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping: no new requests, finishing the ones in flight');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
