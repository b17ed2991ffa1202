import type { Lane } from '../runtime/model-queue';
import type { JobKind } from './job-record';
import { JOB_KINDS } from './kinds';

/** What travels through the queue: the job's id and kind; its input waits in the store. */
export interface QueuedJob {
  id: string;
  kind: JobKind;
}

export type { Lane };
/** The lane a kind's definition names (short jobs interactive, long ones batch). */
export const laneOf = (kind: JobKind): Lane => JOB_KINDS[kind].lane;

/**
 * The bounded queue between the API and the model workers. Two implementations (memory/,
 * redis/ on BullMQ) pass one contract suite (test/helpers/work-queue-contract.ts).
 */
export interface WorkQueue {
  /** Adds a job; QueueFullError (503 + Retry-After) when `maxWaiting` jobs wait already. */
  add(job: QueuedJob): Promise<void>;
  /** Throws QueueFullError if a job added now would be refused. */
  assertRoom(): Promise<void>;
  /** Jobs waiting for a worker, over every process sharing the queue. */
  waiting(): Promise<number>;
  /**
   * Starts taking jobs: up to `concurrency(lane)` at once in this process (the model
   * worker merges their engine calls). `handler` settles when the job has ended.
   */
  consume(handler: (job: QueuedJob) => Promise<void>, concurrency: (lane: Lane) => number): Promise<void>;
  /** The concurrency may have changed (model workers came up): take what now fits. */
  resize(): void;
  /** Calls `listener` for a job the queue gave up on because the worker holding it died. */
  onLost(listener: (id: string, reason: string) => void): void;
  /** Takes no new jobs; resolves once the handlers of the running ones have settled. */
  stopConsuming(): Promise<void>;
  close(): Promise<void>;
}
