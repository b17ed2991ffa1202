import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from './config';

/** How long requests still in flight may take to finish once the jobs have ended, before their sockets are cut. */
const LINGER_MS = 1000;
/** The least time closing the app is given once the jobs have ended (a grace of 0 included). */
const MIN_CLOSE_MS = 100;
/**
 * Past the grace by this much, the process exits 1 without waiting more: jobs that did not
 * end after their abort (a model call that never returns, a store that does not answer).
 */
const OVERRUN_MS = 10_000;

/** Fastify's options for a listening server (the tests build the app without them). */
export function serverOptions(config: Config): FastifyServerOptions {
  return {
    logger: { level: config.LOG_LEVEL },
    requestTimeout: config.ADVPROBE_JOB_TIMEOUT_MS + 30_000,
    connectionTimeout: 60_000,
    // Our gate (http/lifecycle.ts) answers the documented shutting_down error, with Retry-After.
    return503OnClosing: false,
  };
}

/**
 * The part of the grace kept for stopping the jobs (each stops within one model step) and
 * closing: a fifth of it, at most 5 s. Running jobs get the rest.
 */
export const closingReserveMs = (graceMs: number): number => Math.min(5000, Math.floor(graceMs / 5));

/**
 * Stops within `graceMs` whatever clients hold open:
 * 1. at once: /readyz answers 503 and new work 503 shutting_down (the listener stays open,
 *    so balancers that have not noticed yet get an answer, not a refused connection);
 * 2. running jobs get the grace less the closing reserve, then end shutting_down;
 * 3. event streams send their jobs' final events and close;
 * 4. idle keep-alive sockets close; requests still in flight get up to 1 s (at most half of
 *    what is left), then every socket is cut (a half-sent upload, a client that never
 *    reads); then the app closes (model threads, queue, store), or the grace ends first.
 * This runs outside Fastify's close hooks: those are bounded by `pluginTimeout` (10 s).
 */
export async function stopGracefully(app: FastifyInstance, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  const { lifecycle } = app;
  lifecycle.stopping = true;
  await lifecycle.drain(graceMs - closingReserveMs(graceMs));
  await lifecycle.endStreams();
  app.server.closeIdleConnections();
  // Half of what is left at most: closing the app after the cut must fit in the grace too.
  const cut = setTimeout(() => app.server.closeAllConnections(), Math.max(0, Math.min(LINGER_MS, (deadline - Date.now()) / 2)));
  const closed = app.close().finally(() => clearTimeout(cut));
  // Every job has ended and every client is answered: a model thread still finishing an
  // aborted step (seconds on a loaded CPU) is not worth overrunning the grace for.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(MIN_CLOSE_MS, deadline - Date.now()))));
  if ((await Promise.race([closed, late])) === 'late') app.log.warn('the model threads or the store did not close within the grace: exiting without waiting for them');
  clearTimeout(timer);
}

/**
 * Listens, and on SIGTERM or SIGINT stops gracefully: exit 0 once stopped (within the grace
 * unless aborted jobs take longer than the closing reserve to end), 1 on an error or 10 s
 * past the grace. Never a hang.
 */
export async function serve(app: FastifyInstance, config: Config): Promise<void> {
  const graceMs = config.ADVPROBE_SHUTDOWN_GRACE_MS;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal, graceMs }, 'stopping: new work refused, running jobs finishing');
    const overrun = setTimeout(() => {
      app.log.error({ graceMs, openStreams: app.lifecycle.openStreams }, 'stopping overran the grace: exiting anyway');
      process.exit(1);
    }, graceMs + OVERRUN_MS);
    stopGracefully(app, graceMs).then(
      () => {
        clearTimeout(overrun);
        process.exit(0);
      },
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
