import { AppError, appError } from '../errors';
import { toJobError } from './job-executor';
import { isJobId, type JobInput, type JobKind, type JobRecord } from './job-record';
import { waitForEnd, type JobStore } from './job-store';
import { syncWaitOver, timedOut, type TimeLimit } from './time-limit';
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

  /**
   * Submits and waits for the end, at most `waitMs` (the synchronous wait): the ended job, or
   * the job still going once the wait is over (its caller answers 202 and it runs on). A
   * failed job becomes its error.
   */
  async runWithin(kind: JobKind, owner: string | null, input: JobInput, waitMs: number): Promise<SyncOutcome> {
    const record = await this.submit(kind, owner, input);
    // The executor enforces the time limit; waiting longer than it (and a margin to record
    // the end) means no worker took the job, and the caller hears the same error.
    const limit = this.options.timeLimit(kind);
    const limitWaitMs = limit.ms + END_MARGIN_MS;
    const ms = Math.min(waitMs, limitWaitMs);
    const waited = AbortSignal.timeout(ms);
    try {
      return { ended: true, job: succeeded(await waitForEnd(this.store, record.id, waited)) };
    } catch (err) {
      if (err instanceof AppError || !waited.aborted) throw err;
      if (ms >= limitWaitMs) throw timedOut(limit);
    }
    const now = (await this.store.find(record.id)) ?? record;
    // It may have ended between the timeout and this read.
    return now.finishedAt !== null ? { ended: true, job: succeeded(now) } : { ended: false, job: now };
  }

  /**
   * Submits and waits for the end, for kinds without a job route to follow (classify, infer):
   * past `waitMs` the job is cancelled, nobody could fetch its result, and the caller gets 503.
   */
  async run(kind: JobKind, owner: string | null, input: JobInput, waitMs = Number.POSITIVE_INFINITY): Promise<JobRecord> {
    const outcome = await this.runWithin(kind, owner, input, waitMs);
    if (outcome.ended) return outcome.job;
    void this.abandon(outcome.job.id).catch(() => undefined);
    throw syncWaitOver(waitMs);
  }

  private async abandon(id: string): Promise<void> {
    await this.store.requestCancel(id);
    await this.store.finish(id, { status: 'cancelled', error: toJobError(appError('cancelled')) }, { onlyIfQueued: true });
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

/** What a synchronous request gets: the job once it has ended, or as it stands when the wait is over. */
export type SyncOutcome = { ended: true; job: JobRecord } | { ended: false; job: JobRecord };

/** The job if it succeeded; else its error, thrown. */
function succeeded(ended: JobRecord): JobRecord {
  if (ended.status === 'succeeded') return ended;
  if (!ended.error) throw appError('internal_error', {}, { cause: new Error(`job ${ended.id} ended without a result`) });
  // The recorded error as it was (recorded by this version: a code and message of the registry).
  const { statusCode, code, message } = ended.error;
  throw new AppError(statusCode, code, message, statusCode === 503 ? { 'retry-after': '5' } : {});
}
