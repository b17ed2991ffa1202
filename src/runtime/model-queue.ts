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
  maxQueued: number;
  timeoutMs: number;
  retryAfterSeconds: number;
  /** Jobs of a lane that may run at once (what the model workers batch together); default 1. */
  slots?: (lane: Lane) => number;
}

/** A job waiting in the queue: `start` runs it and settles when the task does. */
type Waiting = { lane: Lane; start: () => Promise<void>; cancel: (reason: Error) => void };

/**
 * A bounded queue in front of the model workers: up to `slots(lane)` jobs of each lane run
 * at once (the workers merge their engine calls into batches), the rest wait in arrival
 * order, at most `maxQueued` of them; past that callers get QueueFullError (503 +
 * Retry-After) at once rather than an ever-growing wait. A caller whose job has not finished
 * after `timeoutMs` (queue wait included) gets a 503; a job that times out while waiting
 * never runs.
 */
export class ModelQueue {
  private readonly waiting: Waiting[] = [];
  private readonly running: Record<Lane, number> = { interactive: 0, batch: 0 };

  constructor(private readonly options: ModelQueueOptions) {}

  get length(): number {
    return this.waiting.length;
  }

  /** Throws QueueFullError if a job submitted now would be refused. */
  assertRoom(): void {
    if (this.waiting.length >= this.options.maxQueued) throw new QueueFullError(this.options.retryAfterSeconds);
  }

  /**
   * Runs `task` when its turn comes. The task's signal aborts when the job times out or when
   * `options.signal` aborts (cancel): the task should then stop soon; its caller is answered at
   * once. A job cancelled while waiting never runs. `admitted`: part of a job already
   * accepted, so never refused for a full queue.
   */
  run<T>(task: (signal: AbortSignal) => Promise<T>, options: { signal?: AbortSignal; admitted?: boolean; lane?: Lane; timeoutMs?: number } = {}): Promise<{ value: T; timing: JobTiming }> {
    const { retryAfterSeconds } = this.options;
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    try {
      // A step of a job that was accepted earlier waits its turn rather than being refused.
      if (!options.admitted) this.assertRoom();
      options.signal?.throwIfAborted();
    } catch (err) {
      return Promise.reject(err);
    }
    const enqueued = performance.now();
    const abort = new AbortController();
    return new Promise((resolve, reject) => {
      const fail = (reason: Error): void => {
        const index = this.waiting.indexOf(job);
        if (index >= 0) this.waiting.splice(index, 1);
        clearTimeout(timer);
        abort.abort(reason);
        reject(reason);
      };
      const timer = setTimeout(
        () => fail(appError('job_timeout', { ms: timeoutMs, setting: options.timeoutMs ? 'ADVPROBE_TRAINING_TIMEOUT_MS' : 'ADVPROBE_JOB_TIMEOUT_MS', retryAfter: retryAfterSeconds })),
        timeoutMs,
      );
      const onCancel = (): void => fail(options.signal?.reason instanceof Error ? options.signal.reason : appError('cancelled'));
      options.signal?.addEventListener('abort', onCancel, { once: true });
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
            clearTimeout(timer);
            options.signal?.removeEventListener('abort', onCancel);
          }
        },
        cancel: (reason) => {
          clearTimeout(timer);
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
