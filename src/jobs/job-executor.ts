import { AppError, appError } from '../errors';
import type { Log } from '../log';
import { observeModelJob, type Metrics } from '../metrics';
import type { ModelStore } from '../model/model-store';
import type { ModelService } from '../runtime/model-service';
import type { JobError, JobOutcome } from './job-record';
import type { JobEventBus, JobStore } from './job-store';
import type { JobRuntime } from './runtime';
import { JOB_KINDS } from './kinds';
import { timedOut, type TimeLimit } from './time-limit';
import type { QueuedJob } from './work-queue';

const cancelled = (): AppError => appError('cancelled');
const shuttingDown = (): AppError => appError('shutting_down');

/**
 * The model worker's side of a job, the same in every topology: take it from the queue,
 * start it in the store, run its kind with progress, cancel and the time limit (queue wait
 * included), and end it in the store with its result or error. It never throws: every job
 * it is handed ends in a final state.
 */
export class JobExecutor {
  private readonly running = new Map<string, AbortController>();
  private stopListening?: () => void;

  private readonly store: JobStore;
  private readonly events: JobEventBus;

  constructor(
    runtime: Pick<JobRuntime, 'store' | 'events'>,
    private readonly model: ModelService,
    private readonly models: ModelStore,
    /** Each kind's time limit, queue wait included: enforced here and nowhere else. */
    private readonly timeLimit: (kind: QueuedJob['kind']) => TimeLimit,
    private readonly log: Log,
    private readonly metrics: Metrics,
  ) {
    ({ store: this.store, events: this.events } = runtime);
  }

  /** Listens for cancel requests from any process. */
  async start(): Promise<void> {
    this.stopListening = await this.events.onCancelRequest((id) => this.running.get(id)?.abort(cancelled()));
  }

  get active(): number {
    return this.running.size;
  }

  async run({ id, kind }: QueuedJob): Promise<void> {
    try {
      await this.execute(id, kind);
    } catch (err) {
      // The store itself failed (Redis away): the job stays unfinished until its TTL or the queue's stall check.
      this.log.error({ job: id, err }, 'could not record the end of a job');
    }
  }

  /** Stops every running job now (shutdown past its grace); each ends with shutting_down. */
  abortAll(): void {
    for (const controller of this.running.values()) controller.abort(shuttingDown());
  }

  close(): void {
    this.stopListening?.();
  }

  private async execute(id: string, kind: QueuedJob['kind']): Promise<void> {
    const record = await this.store.find(id);
    if (!record || record.finishedAt !== null) return; // cancelled while queued, or expired
    const queuedMs = Date.now() - Date.parse(record.createdAt);
    const limit = this.timeLimit(kind);
    const remainingMs = limit.ms - queuedMs;
    if (remainingMs <= 0) return void (await this.end(id, kind, { status: 'failed', error: toJobError(timedOut(limit)) }));
    if (!(await this.store.start(id))) return;
    const controller = new AbortController();
    this.running.set(id, controller);
    const timer = setTimeout(() => controller.abort(timedOut(limit)), remainingMs);
    let reported = Promise.resolve();
    try {
      if (await this.events.cancelRequested(id)) controller.abort(cancelled()); // asked before we listened
      const input = await this.store.input(id);
      if (!input) throw new Error(`job ${id} has no input`);
      const running = JOB_KINDS[kind].run(
        input,
        {
          id,
          signal: controller.signal,
          queuedMs,
          owner: record.owner,
          // In order, and never blocking the job: the end waits for the last one below.
          report: (progress) => void (reported = reported.then(() => this.store.progress(id, progress)).catch(() => undefined)),
        },
        { model: this.model, metrics: this.metrics, models: this.models },
      );
      // The job ends at its limit or cancel even if its kind is slow to stop.
      const output = await untilAborted(running, controller.signal);
      if (output.timing) observeModelJob(this.metrics, kind, output.timing);
      await reported;
      await this.end(id, kind, { status: 'succeeded', result: output.result, artifacts: output.artifacts });
    } catch (err) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : err;
      const error = toJobError(reason);
      if (error.statusCode >= 500) logJobFailure(this.log, id, reason, error);
      await reported;
      await this.end(id, kind, { status: error.code === 'cancelled' ? 'cancelled' : 'failed', error });
    } finally {
      clearTimeout(timer);
      this.running.delete(id);
    }
  }

  private async end(id: string, kind: QueuedJob['kind'], outcome: JobOutcome): Promise<void> {
    if (await this.store.finish(id, outcome)) this.metrics.jobs.inc({ type: kind, status: outcome.status });
  }
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined); // its failure after an abort is not ours to report
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(signal.reason);
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/**
 * The error a job record keeps and its clients see: an AppError's code and message; anything
 * else is internal_error, its message (a stack's worth of internals) left to the log.
 */
export function toJobError(err: unknown): JobError {
  const known = err instanceof AppError ? err : appError('internal_error');
  return { code: known.code, message: known.message, statusCode: known.statusCode };
}

/** A 5xx job failure in the log, with what the record does not keep: the cause and its stack. */
function logJobFailure(log: Log, id: string, reason: unknown, error: JobError): void {
  const details = reason instanceof AppError ? reason.cause : reason;
  if (details === undefined) log.warn({ job: id, code: error.code }, error.message);
  else log.error({ job: id, code: error.code, err: details }, error.message);
}
