import type { Redis } from 'ioredis';
import type { Config } from '../config';
import type { Log } from '../log';
import type { JobEventBus, JobStore } from './job-store';
import { EmbeddedRuntime } from './memory/embedded-runtime';
import { DistributedRuntime } from './redis/distributed-runtime';
import type { WorkQueue } from './work-queue';

export type RuntimeReadiness = { ready: true } | { ready: false; reason: string };

/**
 * Everything about jobs that differs between the two topologies, behind one interface:
 * - embedded (no Redis): jobs, queue and events in this process's memory; the model here
 *   is the only one;
 * - distributed: jobs and events in Redis, the queue on BullMQ, shared by every API and
 *   worker process.
 * The service (service.ts) and the HTTP layer take what they need from here and never ask
 * which one they hold.
 */
export interface JobRuntime {
  readonly store: JobStore;
  /** Event logs and cancel requests, across the processes that share the store. */
  readonly events: JobEventBus;
  readonly queue: WorkQueue;
  /** Where @fastify/rate-limit counts: Redis shared by every API process, or null for its own memory. */
  readonly rateLimitStore: { redis: Redis; nameSpace: string } | null;
  /**
   * How a job is admitted before it is queued, given this process's model check (null: an
   * API process without a model). Embedded, the local model is the only one: a job is refused
   * at once while it loads. Distributed, jobs wait in Redis for any worker.
   */
  admission(localModelReady: (() => void) | null): (() => void) | undefined;
  /** Whether the shared parts answer (Redis); the model's readiness is the service's. */
  readiness(): RuntimeReadiness;
  /**
   * Shutdown, step one: fails, with shutting_down, the waiting jobs that only this process
   * holds (embedded); jobs waiting in Redis stay for other workers.
   */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** The one place that picks the topology: ADVPROBE_REDIS_URL set means distributed. `log` hears what clients are not told. */
export function createRuntime(config: Config, log?: Log): JobRuntime {
  return config.ADVPROBE_REDIS_URL ? new DistributedRuntime(config, config.ADVPROBE_REDIS_URL, log) : new EmbeddedRuntime(config);
}
