import type { Redis } from 'ioredis';
import type { Config } from './config';
import { appError } from './errors';
import { toJobError, JobExecutor } from './jobs/job-executor';
import type { JobStore } from './jobs/job-store';
import { JobService } from './jobs/job-service';
import { MemoryJobStore } from './jobs/memory/memory-job-store';
import { MemoryWorkQueue } from './jobs/memory/memory-work-queue';
import { BullmqWorkQueue } from './jobs/redis/bullmq-work-queue';
import { RedisJobStore } from './jobs/redis/redis-job-store';
import type { WorkQueue } from './jobs/work-queue';
import type { Log } from './log';
import { createMetrics, type Metrics } from './metrics';
import { loadCatalog, type ModelCatalog } from './model/catalog';
import { ModelStore } from './model/model-store';
import { ModelService, type EngineFactory } from './runtime/model-service';

export type Role = Config['ADVPROBE_ROLE'];
const RETRY_AFTER_SECONDS = 5;

export interface Readiness {
  ready: boolean;
  status: 'ready' | 'loading' | 'failed' | 'unavailable';
  backend: string | null;
  reason?: string;
}

/**
 * The service's parts for one process, by topology:
 * - embedded (no Redis; role all): memory store and queue, the model in this process;
 * - distributed: Redis store and BullMQ queue shared by every process; role api has the
 *   job service and no model, role worker the model and executor and no routes but health,
 *   role all both.
 * The HTTP layer (app.ts) and the worker entry take what they need from here.
 */
export class Service {
  readonly catalog: ModelCatalog;
  /** The base model and the trained ones, on disk (shared by every process of a deployment). */
  readonly models: ModelStore;
  readonly store: JobStore;
  readonly queue: WorkQueue;
  /** The API side: submit, wait, cancel (roles all and api). */
  readonly jobs: JobService | null;
  /** The model worker side (roles all and worker). */
  readonly model: ModelService | null;
  readonly metrics: Metrics;
  private readonly executor: JobExecutor | null;
  private closed = false;

  constructor(
    readonly config: Config,
    private readonly log: Log,
    /** Injected engine (tests of the HTTP layer); default: the model from the models folder on threads. */
    engine?: EngineFactory,
  ) {
    const role = config.ADVPROBE_ROLE;
    this.catalog = loadCatalog(config.ADVPROBE_MODELS_DIR);
    this.models = new ModelStore(config.ADVPROBE_MODELS_DIR);
    const ttlSeconds = config.ADVPROBE_JOB_TTL_S;
    if (config.ADVPROBE_REDIS_URL) {
      const prefix = config.ADVPROBE_REDIS_PREFIX;
      const activeTtlSeconds = Math.ceil(config.ADVPROBE_JOB_TIMEOUT_MS / 1000) + 3600;
      this.store = new RedisJobStore({ url: config.ADVPROBE_REDIS_URL, ttlSeconds, activeTtlSeconds, prefix });
      this.queue = new BullmqWorkQueue({ url: config.ADVPROBE_REDIS_URL, maxWaiting: config.ADVPROBE_QUEUE_SIZE, retryAfterSeconds: RETRY_AFTER_SECONDS, keepFailedSeconds: ttlSeconds, prefix });
      // A job whose worker died (BullMQ found its lock expired) ends here, whoever hears it first.
      this.queue.onLost((id, reason) => {
        this.log.error({ job: id, reason }, 'a model worker process stopped while running this job');
        const error = toJobError(appError('worker_crashed'));
        void this.store.finish(id, { status: 'failed', error }).catch(() => undefined);
      });
    } else {
      this.store = new MemoryJobStore({ ttlSeconds, maxJobs: config.ADVPROBE_MAX_JOBS });
      this.queue = new MemoryWorkQueue({ maxWaiting: config.ADVPROBE_QUEUE_SIZE, retryAfterSeconds: RETRY_AFTER_SECONDS });
    }
    this.model = role === 'api' ? null : new ModelService(config, log, engine);
    const model = this.model;
    // Embedded, this process's model is the only one: refuse at once while it loads. Distributed, jobs wait in Redis for any worker.
    const admit = model && !config.ADVPROBE_REDIS_URL ? () => model.assertReady() : undefined;
    this.jobs = role === 'worker' ? null : new JobService(this.store, this.queue, { timeoutMs: config.ADVPROBE_JOB_TIMEOUT_MS, admit });
    this.metrics = createMetrics({ model: this.model, waiting: () => this.queue.waiting() });
    this.executor = this.model ? new JobExecutor(this.store, this.model, this.models, { timeoutMs: config.ADVPROBE_JOB_TIMEOUT_MS, trainingTimeoutMs: config.ADVPROBE_TRAINING_TIMEOUT_MS }, log, this.metrics) : null;
  }

  /** Starts taking jobs once the model is ready (a loading worker must not hold any). */
  async start(): Promise<void> {
    const { model, executor } = this;
    if (!model || !executor) return;
    await executor.start();
    model.onReady(() => this.queue.resize());
    void model.whenReady().then(
      async () => {
        if (!this.closed) await this.queue.consume((job) => executor.run(job), () => model.slots());
      },
      (err: unknown) => this.log.error({ err }, 'the model did not load: this process takes no jobs'),
    );
  }

  /** The Redis connection the rate limit shares, in the distributed mode. */
  get redis(): Redis | null {
    return this.store instanceof RedisJobStore ? this.store.connection : null;
  }

  readiness(): Readiness {
    if (this.store instanceof RedisJobStore && !this.store.connected) return { ready: false, status: 'unavailable', backend: null, reason: 'Redis is unreachable' };
    if (!this.model) return { ready: true, status: 'ready', backend: null };
    const state = this.model.state;
    return {
      ready: state.status === 'ready',
      status: state.status,
      backend: state.status === 'ready' ? state.info.backend : null,
      ...(state.status === 'failed' ? { reason: state.message } : {}),
    };
  }

  /**
   * Shutdown, step one: take no new jobs, fail the ones waiting in this process's memory
   * (in Redis they wait for other workers), give running ones `graceMs`, then stop them
   * with shutting_down.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.queue instanceof MemoryWorkQueue) {
      const error = toJobError(appError('shutting_down'));
      await Promise.all(this.queue.takeWaiting().map((job) => this.store.finish(job.id, { status: 'failed', error })));
    }
    if (!this.executor) return;
    const stopped = this.queue.stopConsuming();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    if ((await Promise.race([stopped, late])) === 'late') {
      this.log.warn({ jobs: this.executor.active }, 'shutdown grace over: stopping the jobs still running');
      this.executor.abortAll();
      await stopped;
    }
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.executor?.abortAll();
    this.executor?.close();
    await this.queue.close();
    await this.model?.close();
    await this.store.close();
  }
}
