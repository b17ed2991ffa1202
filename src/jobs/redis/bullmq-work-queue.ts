import { Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueFullError } from '../../errors';
import { laneOf, type Lane, type QueuedJob, type WorkQueue } from '../work-queue';
import { blockingConnection, commandConnection, redisCall } from './redis-connection';

export interface BullmqQueueOptions {
  url: string;
  maxWaiting: number;
  retryAfterSeconds: number;
  /** How long BullMQ keeps a failed job's entry (our store keeps the job itself). */
  keepFailedSeconds: number;
  prefix?: string;
}

const LANES: readonly Lane[] = ['interactive', 'batch'];

/**
 * A job's lock lasts this long and is renewed every half of it by the worker's event loop
 * (the model runs on threads, so the loop stays free); a worker that dies holds it at most
 * this long, and the stalled check every STALLED_CHECK_MS then fails the job: a crashed
 * worker's job ends within about 15 s, well inside the minute the service promises.
 */
const LOCK_MS = 10_000;
const STALLED_CHECK_MS = 5_000;

/**
 * The distributed queue: one BullMQ queue per lane on Redis, shared by every API and worker
 * process. The bound counts the jobs waiting in Redis, so it holds across processes. A
 * stalled job (its worker died) is not retried (maxStalledCount 0): it fails, and onLost
 * tells the runtime, which ends it as worker_crashed.
 */
export class BullmqWorkQueue implements WorkQueue {
  private readonly connection: Redis;
  private readonly queues: Record<Lane, Queue>;
  private readonly workers: { worker: Worker; connection: Redis }[] = [];
  private readonly events: QueueEvents[] = [];
  /** Connections we made for BullMQ: it never closes a connection it was handed, so we do. */
  private readonly ownConnections: Redis[] = [];
  private readonly lostListeners: ((id: string, reason: string) => void)[] = [];
  private concurrency: (lane: Lane) => number = () => 1;

  constructor(private readonly options: BullmqQueueOptions) {
    this.connection = commandConnection(options.url, 'advprobe-queue');
    this.connection.on('error', () => undefined);
    const prefix = options.prefix ?? 'advprobe';
    this.queues = {
      interactive: new Queue(`${prefix}-interactive`, { connection: this.connection, prefix: 'bull' }),
      batch: new Queue(`${prefix}-batch`, { connection: this.connection, prefix: 'bull' }),
    };
    for (const queue of Object.values(this.queues)) queue.on('error', () => undefined);
    for (const lane of LANES) {
      const events = new QueueEvents(this.queues[lane].name, { connection: this.own(blockingConnection(options.url, `advprobe-events-${lane}`)), prefix: 'bull' });
      events.on('error', () => undefined);
      events.on('failed', ({ jobId, failedReason }) => this.lostListeners.forEach((listener) => listener(jobId, failedReason)));
      this.events.push(events);
    }
  }

  add(job: QueuedJob): Promise<void> {
    return redisCall(this.connection, async () => {
      await this.assertRoom();
      await this.queues[laneOf(job.kind)].add(job.kind, job, {
        jobId: job.id,
        removeOnComplete: true,
        removeOnFail: { age: this.options.keepFailedSeconds },
      });
    });
  }

  assertRoom(): Promise<void> {
    return redisCall(this.connection, async () => {
      if ((await this.waiting()) >= this.options.maxWaiting) throw new QueueFullError(this.options.retryAfterSeconds);
    });
  }

  waiting(): Promise<number> {
    return redisCall(this.connection, async () => {
      const counts = await Promise.all(LANES.map((lane) => this.queues[lane].getJobCounts('wait', 'prioritized', 'delayed')));
      return counts.reduce((sum, c) => sum + Object.values(c).reduce((a, b) => a + b, 0), 0);
    });
  }

  async consume(handler: (job: QueuedJob) => Promise<void>, concurrency: (lane: Lane) => number): Promise<void> {
    this.concurrency = concurrency;
    for (const lane of LANES) {
      const connection = blockingConnection(this.options.url, `advprobe-worker-${lane}`);
      connection.on('error', () => undefined);
      const worker = new Worker<QueuedJob, void>(this.queues[lane].name, async (job) => handler(job.data), {
        connection,
        prefix: 'bull',
        concurrency: Math.max(1, concurrency(lane)),
        lockDuration: LOCK_MS,
        stalledInterval: STALLED_CHECK_MS,
        maxStalledCount: 0,
      });
      worker.on('error', () => undefined);
      this.workers.push({ worker, connection });
    }
  }

  resize(): void {
    LANES.forEach((lane, i) => {
      const consumer = this.workers[i];
      if (consumer) consumer.worker.concurrency = Math.max(1, this.concurrency(lane));
    });
  }

  onLost(listener: (id: string, reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  async stopConsuming(): Promise<void> {
    // close() waits for the jobs running here; waiting jobs stay in Redis for other workers.
    await Promise.all(
      this.workers.splice(0).map(async ({ worker, connection }) => {
        await worker.close();
        connection.disconnect();
      }),
    );
  }

  async close(): Promise<void> {
    await this.stopConsuming();
    await Promise.all([...this.events.map((e) => e.close()), ...Object.values(this.queues).map((q) => q.close())]);
    for (const connection of [this.connection, ...this.ownConnections]) connection.disconnect();
  }

  private own(connection: Redis): Redis {
    connection.on('error', () => undefined);
    this.ownConnections.push(connection);
    return connection;
  }
}
