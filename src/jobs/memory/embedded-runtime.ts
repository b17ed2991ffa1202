import type { Config } from '../../config';
import { appError } from '../../errors';
import { toJobError } from '../job-executor';
import type { JobRuntime, RuntimeReadiness } from '../runtime';
import { MemoryJobStore } from './memory-job-store';
import { MemoryWorkQueue } from './memory-work-queue';

const RETRY_AFTER_SECONDS = 5;

/** One process: jobs, queue and events in memory; they end with the process. */
export class EmbeddedRuntime implements JobRuntime {
  readonly store: MemoryJobStore;
  readonly queue: MemoryWorkQueue;
  readonly rateLimitStore = null;

  constructor(config: Config) {
    this.store = new MemoryJobStore({ ttlSeconds: config.ADVPROBE_JOB_TTL_S, maxJobs: config.ADVPROBE_MAX_JOBS });
    this.queue = new MemoryWorkQueue({ maxWaiting: config.ADVPROBE_QUEUE_SIZE, retryAfterSeconds: RETRY_AFTER_SECONDS });
  }

  get events(): MemoryJobStore {
    return this.store;
  }

  admission(localModelReady: (() => void) | null): (() => void) | undefined {
    return localModelReady ?? undefined;
  }

  readiness(): RuntimeReadiness {
    return { ready: true };
  }

  async drain(): Promise<void> {
    // Nobody else will run them: each gets an answer now rather than vanishing with the process.
    const error = toJobError(appError('shutting_down'));
    await Promise.all(this.queue.takeWaiting().map((job) => this.store.finish(job.id, { status: 'failed', error })));
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.store.close();
  }
}
