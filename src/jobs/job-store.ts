import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AttackProgress } from '../attacks/attack';
import { AppError } from '../errors';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const FINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];


export interface JobError {
  code: string;
  message: string;
  statusCode: number;
}

/**
 * One asynchronous job. `events` emits 'progress' (Progress) while it runs and 'end' once
 * it reaches a final status. `data` is what its kind keeps for later (e.g. the PNG pixels).
 */
export class Job<Result, Data = unknown, Progress = AttackProgress> {
  readonly id = randomUUID();
  readonly createdAt = new Date();
  readonly events = new EventEmitter();
  readonly controller = new AbortController();
  status: JobStatus = 'queued';
  startedAt?: Date;
  finishedAt?: Date;
  progress: Progress | null = null;
  result?: Result;
  error?: JobError;
  data?: Data;

  /** `owner`: who may see the job (a digest of its API key); undefined when keys are off. */
  constructor(readonly owner: string | undefined) {}

  get finished(): boolean {
    return FINAL_STATUSES.includes(this.status);
  }

  start(): void {
    if (this.status === 'queued') {
      this.status = 'running';
      this.startedAt = new Date();
    }
  }

  report(progress: Progress): void {
    this.progress = progress;
    this.events.emit('progress', progress);
  }

  succeed(result: Result, data?: Data): void {
    this.end('succeeded', () => {
      this.result = result;
      this.data = data;
    });
  }

  fail(error: JobError, status: 'failed' | 'cancelled' = 'failed'): void {
    this.end(status, () => (this.error = error));
  }

  /** Resolves once the job has a final status. */
  done(): Promise<void> {
    return this.finished ? Promise.resolve() : new Promise((resolve) => this.events.once('end', resolve));
  }

  private end(status: JobStatus, set: () => void): void {
    if (this.finished) return;
    set();
    this.status = status;
    this.finishedAt = new Date();
    this.events.emit('end');
    this.events.removeAllListeners('progress');
  }
}

/**
 * Keeps jobs for `ttlSeconds` after they finish, and never more than `maxJobs`: when full,
 * the oldest finished job goes first; if every job is still active, new ones are refused.
 */
export class JobStore<Result, Data = unknown, Progress = AttackProgress> {
  private readonly jobs = new Map<string, Job<Result, Data, Progress>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: { ttlSeconds: number; maxJobs: number }) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(30_000, options.ttlSeconds * 1000)).unref();
  }

  create(owner?: string): Job<Result, Data, Progress> {
    this.sweep();
    if (this.jobs.size >= this.options.maxJobs) {
      const oldest = [...this.jobs.values()].filter((j) => j.finished).sort((a, b) => a.finishedAt!.getTime() - b.finishedAt!.getTime())[0];
      if (!oldest) throw new AppError(503, 'too_many_jobs', 'too many jobs are active; retry later', { 'retry-after': '5' });
      this.jobs.delete(oldest.id);
    }
    const job = new Job<Result, Data, Progress>(owner);
    this.jobs.set(job.id, job);
    return job;
  }

  /** The job, if it exists, has not expired, and belongs to `owner` (else 404: no snooping). */
  get(id: string, owner?: string): Job<Result, Data, Progress> {
    const job = this.jobs.get(id);
    if (job && this.expired(job)) this.jobs.delete(id);
    if (!job || this.expired(job) || job.owner !== owner) throw new AppError(404, 'job_not_found', `no job ${id} (finished jobs are kept for ${this.options.ttlSeconds} s)`);
    return job;
  }

  values(): IterableIterator<Job<Result, Data, Progress>> {
    return this.jobs.values();
  }

  get size(): number {
    return this.jobs.size;
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private expired(job: Job<Result, Data, Progress>): boolean {
    return job.finishedAt !== undefined && Date.now() - job.finishedAt.getTime() >= this.options.ttlSeconds * 1000;
  }

  private sweep(): void {
    for (const [id, job] of this.jobs) if (this.expired(job)) this.jobs.delete(id);
  }
}
