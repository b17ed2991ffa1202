import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { type AppError, appError } from '../errors';
import type { Service } from '../service';

/** Reads and cancels still answer while the process stops; anything that starts work does not. */
const ALLOWED_WHILE_STOPPING = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/** An open event stream: `end` sends what its job has left to say, then closes it. */
export interface OpenStream {
  end(): Promise<void>;
}

/**
 * The HTTP side of stopping, shared by the signal handler (src/shutdown.ts), the routes and
 * the app's close hook. Fastify's own closing is no help here: it answers a bare 503 without
 * Retry-After, bounds its close hooks by `pluginTimeout` (10 s), and waits for every open
 * connection, so a hijacked event stream or a half-sent upload can hold the process forever.
 */
export class Lifecycle {
  /** Set once: /readyz turns 503 and new work is refused with shutting_down. */
  stopping = false;
  private readonly streams = new Set<OpenStream>();
  private drained: Promise<void> | null = null;

  constructor(
    private readonly service: Service,
    /** Whether the event loop lags past ADVPROBE_MAX_EVENT_LOOP_DELAY_MS (the overload check, app.ts). */
    readonly overloaded: () => boolean,
  ) {}

  /** What the readiness probes say beside the model and Redis: this process takes work now. */
  takesWork(): boolean {
    return !this.stopping && !this.overloaded();
  }

  /** Registers an open event stream; the returned function forgets it (it closed by itself). */
  track(stream: OpenStream): () => void {
    this.streams.add(stream);
    return () => this.streams.delete(stream);
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Running jobs get `graceMs` to end, then end shutting_down; once, whoever asks first. */
  drain(graceMs: number): Promise<void> {
    this.stopping = true;
    this.drained ??= this.service.drain(graceMs);
    return this.drained;
  }

  /** Every open stream sends its job's last events and closes (a job run elsewhere: the client reconnects). */
  async endStreams(): Promise<void> {
    await Promise.all([...this.streams].map((stream) => stream.end().catch(() => undefined)));
    this.streams.clear();
  }
}

/** The error new work gets while the process stops (the documented one, with Retry-After). */
export const shuttingDown = (): AppError => appError('shutting_down');

/**
 * While stopping: every answer says `Connection: close` (keep-alive clients go elsewhere),
 * and requests that would start work get 503 shutting_down. Registered first, so it runs
 * before authentication, the rate limit and the overload check.
 */
export function registerStoppingGate(app: FastifyInstance, lifecycle: Lifecycle): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!lifecycle.stopping) return;
    void reply.header('connection', 'close');
    if (ALLOWED_WHILE_STOPPING.has(request.method)) return;
    // Read what the client is still sending first: answering mid-upload and closing resets the
    // socket, and the client sees EPIPE instead of the 503 (seen in the SIGTERM test).
    await drainBody(request.raw, DRAIN_LIMIT_MS);
    throw shuttingDown();
  });
}

/** How long a refused request's body may take to arrive; a stalled upload is cut with the other sockets. */
const DRAIN_LIMIT_MS = 2000;

function drainBody(raw: IncomingMessage, limitMs: number): Promise<void> {
  if (raw.complete) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, limitMs);
    raw.once('end', done).once('close', done).once('error', done);
    raw.resume();
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Stopping state, open event streams and the drain (src/http/lifecycle.ts). */
    lifecycle: Lifecycle;
  }
}
