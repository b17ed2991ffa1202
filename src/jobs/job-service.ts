import { AppError, appError } from '../errors';
import { toJobError } from './job-executor';
import { isJobId, type JobInput, type JobKind, type JobRecord } from './job-record';
import { waitForEnd, type JobStore } from './job-store';
import { timedOut, type TimeLimit } from './time-limit';
import type { WorkQueue } from './work-queue';

/**
 * The API's side of jobs, the same in every topology: submit (refused at once when the queue
 * is full), wait for the end, cancel, read. It never runs a job; a model worker (this
 * process's or another's) does.
 */
export class JobService {
  constructor(
    readonly store: JobStore,
    readonly queue: WorkQueue,
    private readonly options: {
      /** Each kind's time limit (the executor enforces it; the wait below only backs it up). */
      timeLimit: (kind: JobKind) => TimeLimit;
      /** Refuses a job at once when no worker could take it (embedded: the model still loading). */
      admit?: () => void;
    },
  ) {}

  /** Stores the job and queues it; answers once it is queued (202 material). */
  async submit(kind: JobKind, owner: string | null, input: JobInput): Promise<JobRecord> {
    this.options.admit?.();
    await this.queue.assertRoom();
    const record = await this.store.create({ kind, owner, input });
    try {
      await this.queue.add({ id: record.id, kind });
    } catch (err) {
      // Refused after all (another API filled the queue, or Redis went away): nothing lingers half-made.
      await this.store.finish(record.id, { status: 'failed', error: toJobError(err) }).catch(() => undefined);
      throw err;
    }
    return record;
  }

  /** Submits and waits for the end: the synchronous routes. A failed job becomes its error. */
  async run(kind: JobKind, owner: string | null, input: JobInput): Promise<JobRecord> {
    const record = await this.submit(kind, owner, input);
    // The executor enforces the time limit; waiting longer than it (and a margin to record
    // the end) means no worker took the job, and the caller hears the same error.
    const limit = this.options.timeLimit(kind);
    const ended = await waitForEnd(this.store, record.id, AbortSignal.timeout(limit.ms + END_MARGIN_MS)).catch((err: unknown) => {
      if (err instanceof AppError) throw err;
      throw timedOut(limit);
    });
    if (ended.status === 'succeeded') return ended;
    if (!ended.error) throw appError('internal_error', {}, { cause: new Error(`job ${record.id} ended without a result`) });
    // The recorded error as it was (recorded by this version: a code and message of the registry).
    const { statusCode, code, message } = ended.error;
    throw new AppError(statusCode, code, message, statusCode === 503 ? { 'retry-after': '5' } : {});
  }

  /**
   * A client's job. The id is checked before the store sees it: Redis keys are built from it,
   * so `<id>:events` would read the job's event list (WRONGTYPE, a false outage).
   */
  async get(id: string, owner: string | null, kind: JobKind): Promise<JobRecord> {
    if (!isJobId(id)) throw appError('job_not_found', { detail: `no job ${id}: not a job id` });
    return this.store.get(id, owner, kind);
  }

  /** Cancels a queued job at once, or a running one within one model step on whichever worker holds it. */
  async cancel(id: string, owner: string | null, kind: JobKind): Promise<JobRecord> {
    const job = await this.get(id, owner, kind);
    if (job.finishedAt !== null) throw appError('job_finished', { id, status: job.status });
    await this.store.requestCancel(id);
    await this.store.finish(id, { status: 'cancelled', error: toJobError(appError('cancelled')) }, { onlyIfQueued: true });
    return waitForEnd(this.store, id, AbortSignal.timeout(this.options.timeLimit(kind).ms));
  }
}

const END_MARGIN_MS = 15_000;
