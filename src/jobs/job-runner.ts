import { AppError } from '../errors';
import type { Log } from '../log';
import type { Metrics } from '../metrics';
import { Job, JobStore, type JobError } from './job-store';

/**
 * What every kind of asynchronous job shares once submitted: the store, cancel, the
 * shutdown drain, and turning a thrown error into the job's final status.
 */
export abstract class JobRunner<Result, Data, Progress> {
  readonly store: JobStore<Result, Data, Progress>;

  constructor(
    private readonly type: 'attack' | 'evaluation',
    options: { ttlSeconds: number; maxJobs: number },
    protected readonly log: Log,
    protected readonly metrics: Metrics,
  ) {
    this.store = new JobStore(options);
  }

  /** Cancels a queued or running job (a running one stops within one model step). */
  async cancel(id: string, owner?: string): Promise<Job<Result, Data, Progress>> {
    const job = this.store.get(id, owner);
    if (job.finished) throw new AppError(409, 'job_finished', `job ${id} has already ${job.status}`);
    job.controller.abort(new AppError(409, 'cancelled', 'the job was cancelled'));
    await job.done();
    return job;
  }

  /**
   * Shutdown, step one: lets active jobs finish for up to `graceMs`, then fails the rest
   * explicitly (503 shutting_down; a running job stops within one model step).
   */
  async drain(graceMs: number): Promise<void> {
    const active = () => [...this.store.values()].filter((job) => !job.finished);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(active().map((job) => job.done())), grace]);
    clearTimeout(timer);
    const left = active();
    if (left.length) this.log.warn({ jobs: left.length, type: this.type }, 'shutdown grace over: failing the jobs still active');
    for (const job of left) job.controller.abort(new AppError(503, 'shutting_down', 'the service is shutting down'));
    await Promise.all(left.map((job) => job.done()));
  }

  close(): void {
    for (const job of this.store.values()) {
      if (!job.finished) job.controller.abort(new AppError(503, 'shutting_down', 'the service is shutting down'));
    }
    this.store.close();
  }

  /** Runs `work` as the job's body: its result, or its error as the job's final status. */
  protected async runJob(job: Job<Result, Data, Progress>, work: () => Promise<{ result: Result; data?: Data }>): Promise<void> {
    try {
      const { result, data } = await work();
      job.succeed(result, data);
    } catch (err) {
      const error = toJobError(err);
      if (error.statusCode >= 500) this.log.warn({ job: job.id, code: error.code }, error.message);
      job.fail(error, error.code === 'cancelled' ? 'cancelled' : 'failed');
    }
    this.metrics.jobs.inc({ type: this.type, status: job.status });
  }
}

function toJobError(err: unknown): JobError {
  if (err instanceof AppError) return { code: err.code, message: err.message, statusCode: err.statusCode };
  return { code: 'internal_error', message: err instanceof Error ? err.message : String(err), statusCode: 500 };
}
