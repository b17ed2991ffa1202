import type { Config } from '../../config';
import { appError } from '../../errors';
import { toJobError } from '../job-executor';
import type { Log } from '../../log';
import type { JobRuntime, RuntimeReadiness } from '../runtime';
import { BullmqWorkQueue } from './bullmq-work-queue';
import { RedisJobStore } from './redis-job-store';

const RETRY_AFTER_SECONDS = 5;

/** Every process of a deployment shares one Redis: jobs and events in it, the queue on BullMQ. */
export class DistributedRuntime implements JobRuntime {
  readonly store: RedisJobStore;
  readonly queue: BullmqWorkQueue;
  readonly rateLimitStore: JobRuntime['rateLimitStore'];

  constructor(config: Config, url: string, log?: Log) {
    const prefix = config.ADVPROBE_REDIS_PREFIX;
    const ttlSeconds = config.ADVPROBE_JOB_TTL_S;
    // An unfinished job's keys live its time limit and a margin; each progress renews them.
    const activeTtlSeconds = Math.ceil(config.ADVPROBE_JOB_TIMEOUT_MS / 1000) + 3600;
    this.store = new RedisJobStore({ url, ttlSeconds, activeTtlSeconds, prefix });
    this.queue = new BullmqWorkQueue({ url, maxWaiting: config.ADVPROBE_QUEUE_SIZE, retryAfterSeconds: RETRY_AFTER_SECONDS, keepFailedSeconds: ttlSeconds, prefix });
    this.rateLimitStore = { redis: this.store.connection, nameSpace: `${prefix}:rate-limit:` };
    // A job whose worker died (BullMQ found its lock expired) ends here, whoever hears it first.
    this.queue.onLost((id, reason) => {
      log?.error({ job: id, reason }, 'a model worker process stopped while running this job');
      const error = toJobError(appError('worker_crashed'));
      void this.store.finish(id, { status: 'failed', error }).catch(() => undefined);
    });
  }

  get events(): RedisJobStore {
    return this.store;
  }

  admission(): undefined {
    return undefined; // jobs wait in Redis for whichever worker is ready
  }

  readiness(): RuntimeReadiness {
    return this.store.connected ? { ready: true } : { ready: false, reason: 'Redis is unreachable' };
  }

  async drain(): Promise<void> {
    // Waiting jobs stay in Redis for the other workers.
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.store.close();
  }
}
