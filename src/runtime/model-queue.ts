import { appError, QueueFullError } from '../errors';

export interface JobTiming {
  queueMs: number;
  computeMs: number;
  totalMs: number;
}

/** A job's timing as the API reports it (`timingMs`): milliseconds to 0.1 ms. */
export function reportedTiming(timing: JobTiming): { queue: number; compute: number; total: number } {
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return { queue: round(timing.queueMs), compute: round(timing.computeMs), total: round(timing.totalMs) };
}

/**
 * Short jobs (classify) and long ones (attacks, evaluation steps) take slots of their own,
 * so long jobs holding every slot never keep a classification waiting.
 */
export type Lane = 'interactive' | 'batch';

export interface ModelQueueOptions {
  /** Calls that may wait at once; past that a call is refused with QueueFullError. */
  maxQueued: number;
  retryAfterSeconds: number;
  /** Calls of a lane that may run at once (what the model workers batch together); default 1. */
  slots?: (lane: Lane) => number;
}

/** A call waiting in the queue: `start` runs it and settles when the task does. */
type Waiting = { lane: Lane; start: () => Promise<void>; cancel: (reason: Error) => void };

/**
 * A bounded queue in front of the model workers: up to `slots(lane)` calls of each lane run
 * at once (the workers merge their engine calls into batches), the rest wait in arrival
 * order, at most `maxQueued` of them; past that a call is refused at once with
 * QueueFullError (503 queue_full + Retry-After) rather than an ever-growing wait. The jobs
 * in front (jobs/) take no more than the slots, so their calls rarely wait at all; the
 * bound stops whatever calls the model beside them. Time limits are the job executor's:
 * a call ends when its signal aborts.
 */
export class ModelQueue {
  private readonly waiting: Waiting[] = [];
  private readonly running: Record<Lane, number> = { interactive: 0, batch: 0 };

  constructor(private readonly options: ModelQueueOptions) {}

  get length(): number {
    return this.waiting.length;
  }

  /**
   * Runs `task` when its turn comes, or refuses it at once when `maxQueued` calls wait.
   * When `options.signal` aborts (cancel, time limit, shutdown) the caller is answered at
   * once with its reason, and the task's own signal aborts so it stops soon; a call aborted
   * while waiting never runs.
   */
  run<T>(task: (signal: AbortSignal) => Promise<T>, options: { signal?: AbortSignal; lane?: Lane } = {}): Promise<{ value: T; timing: JobTiming }> {
    if (this.waiting.length >= this.options.maxQueued) return Promise.reject(new QueueFullError(this.options.retryAfterSeconds));
    if (options.signal?.aborted) return Promise.reject(abortReason(options.signal));
    const enqueued = performance.now();
    const abort = new AbortController();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waiting.indexOf(job);
        if (index >= 0) this.waiting.splice(index, 1);
        const reason = abortReason(options.signal!);
        abort.abort(reason);
        reject(reason);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const job: Waiting = {
        lane: options.lane ?? 'batch',
        start: async () => {
          const started = performance.now();
          try {
            const value = await task(abort.signal);
            const done = performance.now();
            resolve({ value, timing: { queueMs: started - enqueued, computeMs: done - started, totalMs: done - enqueued } });
          } catch (err) {
            reject(err);
          } finally {
            options.signal?.removeEventListener('abort', onAbort);
          }
        },
        cancel: (reason) => {
          options.signal?.removeEventListener('abort', onAbort);
          reject(reason);
        },
      };
      this.waiting.push(job);
      this.pump();
    });
  }

  /** Fails every job still waiting (shutdown): nothing accepted vanishes without an answer. */
  cancelWaiting(reason: Error): void {
    for (const job of this.waiting.splice(0)) job.cancel(reason);
  }

  /** Starts every waiting job whose lane has a free slot, oldest first. */
  private pump(): void {
    const slots = this.options.slots ?? (() => 1);
    for (const job of [...this.waiting]) {
      if (this.running[job.lane] >= slots(job.lane)) continue;
      this.waiting.splice(this.waiting.indexOf(job), 1);
      this.running[job.lane]++;
      void job.start().finally(() => {
        this.running[job.lane]--;
        this.pump();
      });
    }
  }

  /** Slots may grow (workers coming up): start what now fits. */
  refill(): void {
    this.pump();
  }
}

const abortReason = (signal: AbortSignal): Error => (signal.reason instanceof Error ? signal.reason : appError('cancelled'));
