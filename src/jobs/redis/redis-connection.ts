import { Redis } from 'ioredis';
import { AppError, appError } from '../../errors';

/**
 * Connections to Redis. Commands fail fast while Redis is away (no offline queue, two
 * retries), so a request gets a 503 queue_unavailable instead of hanging; ioredis keeps
 * reconnecting in the background and the service recovers without a restart.
 */
export function commandConnection(url: string, name: string): Redis {
  const redis = new Redis(url, { connectionName: name, enableOfflineQueue: false, maxRetriesPerRequest: 2, connectTimeout: 5_000, retryStrategy: retry });
  redis.once('ready', () => connectedOnce.add(redis));
  return redis;
}

/** Connections that have been up once: from then on a call fails at once while Redis is away. */
const connectedOnce = new WeakSet<Redis>();

/** BullMQ's workers and event listeners block on Redis, and BullMQ requires these two settings for them. */
export function blockingConnection(url: string, name: string): Redis {
  return new Redis(url, { connectionName: name, maxRetriesPerRequest: null, retryStrategy: retry });
}

export function subscriberConnection(url: string, name: string): Redis {
  return new Redis(url, { connectionName: name, maxRetriesPerRequest: null, retryStrategy: retry });
}

const retry = (times: number): number => Math.min(times * 200, 2_000);

/** Redis's own message (a host and port) stays in the log. */
export const queueUnavailable = (err: unknown): AppError => appError('queue_unavailable', {}, { cause: err });

/**
 * Waits up to `ms` for a new connection's first handshake, so the first calls after a start
 * do not fail for want of an offline queue; a Redis that is not there fails the call after it.
 */
export async function connected(redis: Redis, ms = CONNECT_WAIT_MS): Promise<void> {
  if (redis.status === 'ready' || redis.status === 'end' || connectedOnce.has(redis)) return;
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    redis.once('ready', resolve);
  });
  clearTimeout(timer);
}

const CONNECT_WAIT_MS = 2_000;

/** Runs a Redis call on `redis`; its failure becomes 503 queue_unavailable (domain errors pass through). */
export async function redisCall<T>(redis: Redis, call: () => Promise<T>): Promise<T> {
  try {
    await connected(redis);
    return await call();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw queueUnavailable(err);
  }
}
