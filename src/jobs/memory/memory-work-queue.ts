import { QueueFullError } from '../../errors';
import { laneOf, type Lane, type QueuedJob, type WorkQueue } from '../work-queue';

/**
 * The embedded queue: arrival order, at most `maxWaiting` waiting, up to concurrency(lane)
 * running. Jobs live in this process only; at shutdown the embedded runtime fails the ones
 * still waiting (takeWaiting) so none vanishes without an answer.
 */
export class MemoryWorkQueue implements WorkQueue {
  private readonly queued: QueuedJob[] = [];
  private readonly running: Record<Lane, number> = { interactive: 0, batch: 0 };
  private readonly idle: (() => void)[] = [];
  private handler?: (job: QueuedJob) => Promise<void>;
  private concurrency: (lane: Lane) => number = () => 0;
  private consuming = false;

  constructor(private readonly options: { maxWaiting: number; retryAfterSeconds: number }) {}

  async add(job: QueuedJob): Promise<void> {
    await this.assertRoom();
    this.queued.push(job);
    this.pump();
  }

  async assertRoom(): Promise<void> {
    if (this.queued.length >= this.options.maxWaiting) throw new QueueFullError(this.options.retryAfterSeconds);
  }

  async waiting(): Promise<number> {
    return this.queued.length;
  }

  async consume(handler: (job: QueuedJob) => Promise<void>, concurrency: (lane: Lane) => number): Promise<void> {
    this.handler = handler;
    this.concurrency = concurrency;
    this.consuming = true;
    this.pump();
  }

  resize(): void {
    this.pump();
  }

  onLost(): void {
    // Nothing is lost in one process: a crashed model thread fails its jobs through the executor.
  }

  async stopConsuming(): Promise<void> {
    this.consuming = false;
    if (this.running.interactive + this.running.batch === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** Removes and returns every waiting job (shutdown). */
  takeWaiting(): QueuedJob[] {
    return this.queued.splice(0);
  }

  async close(): Promise<void> {
    this.consuming = false;
  }

  private pump(): void {
    if (!this.consuming || !this.handler) return;
    const handler = this.handler;
    for (const job of [...this.queued]) {
      const lane = laneOf(job.kind);
      if (this.running[lane] >= this.concurrency(lane)) continue;
      this.queued.splice(this.queued.indexOf(job), 1);
      this.running[lane]++;
      void handler(job)
        .catch(() => undefined) // the handler ends the job itself; a throw must not stop the queue
        .finally(() => {
          this.running[lane]--;
          if (this.running.interactive + this.running.batch === 0) this.idle.splice(0).forEach((resolve) => resolve());
          this.pump();
        });
    }
  }
}
