import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { jobNotFound } from '../memory/memory-job-store';
import type { JobEvent, JobInput, JobKind, JobOutcome, JobRecord, JobStatus } from '../job-record';
import type { JobStore, NewJob } from '../job-store';
import { commandConnection, redisCall, subscriberConnection } from './redis-connection';
import { FINISH, PROGRESS, REQUEST_CANCEL, START } from './scripts';

export interface RedisStoreOptions {
  url: string;
  ttlSeconds: number;
  /** How long an unfinished job of a kind may live (its time limit and the finished TTL): nothing outlives it. */
  activeTtlSeconds: (kind: JobKind) => number;
  prefix?: string;
}

const RECORD_FIELDS = ['id', 'kind', 'owner', 'status', 'createdAt', 'startedAt', 'finishedAt', 'progress', 'result', 'error'] as const;

type Scripted = Redis & {
  jobStart(key: string, now: string): Promise<number>;
  jobProgress(key: string, events: string, progress: string, event: string, channel: string, id: string): Promise<number>;
  jobFinish(key: string, events: string, ...args: (string | number | Buffer)[]): Promise<number>;
  jobRequestCancel(key: string, channel: string, id: string): Promise<number>;
};

/**
 * The distributed store: one hash per job (record, inputs, images, cancel flag) and one list
 * (its event log), both expiring with the TTL; every transition is one Lua script, so it is
 * atomic across processes. Events and cancels are published on two channels that every
 * process subscribes to once, so a client's SSE stream can live on any API process.
 */
export class RedisJobStore implements JobStore {
  private readonly redis: Scripted;
  private readonly subscriber: Redis;
  private readonly bus = new EventEmitter().setMaxListeners(0);
  private readonly prefix: string;
  private readonly subscribed: Promise<unknown>;

  constructor(private readonly options: RedisStoreOptions) {
    this.prefix = options.prefix ?? 'advprobe';
    this.redis = commandConnection(options.url, 'advprobe-store') as Scripted;
    this.redis.on('error', () => undefined); // every call reports its own failure
    this.redis.defineCommand('jobStart', { numberOfKeys: 1, lua: START });
    this.redis.defineCommand('jobProgress', { numberOfKeys: 2, lua: PROGRESS });
    this.redis.defineCommand('jobFinish', { numberOfKeys: 2, lua: FINISH });
    this.redis.defineCommand('jobRequestCancel', { numberOfKeys: 1, lua: REQUEST_CANCEL });
    this.subscriber = subscriberConnection(options.url, 'advprobe-events');
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.dispatch(channel.toString(), message.toString()));
    this.subscribed = this.subscriber.subscribe(this.channel('events'), this.channel('cancel')).catch(() => undefined);
  }

  /** The command connection, for what shares this Redis (rate limit, readiness). */
  get connection(): Redis {
    return this.redis;
  }

  create({ kind, owner, input }: NewJob): Promise<JobRecord> {
    return redisCall(this.redis, async () => {
      const record: JobRecord = { id: randomUUID(), kind, owner, status: 'queued', createdAt: new Date().toISOString(), startedAt: null, finishedAt: null, progress: null };
      const key = this.key(record.id);
      const blobs = Object.entries(input.blobs);
      const fields: Record<string, string | Buffer> = {
        ...this.serialise(record),
        'in:spec': JSON.stringify(input.spec),
        'in:blobs': JSON.stringify(blobs.map(([name]) => name)),
      };
      for (const [name, data] of blobs) fields[`in:blob:${name}`] = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      await this.redis.multi().hset(key, fields).expire(key, this.options.activeTtlSeconds(kind)).exec().then(throwOnError);
      return record;
    });
  }

  async get(id: string, owner: string | null, kind?: JobKind): Promise<JobRecord> {
    const record = await this.find(id);
    if (!record || record.owner !== owner || (kind && record.kind !== kind)) throw jobNotFound(id, this.options.ttlSeconds);
    return record;
  }

  find(id: string): Promise<JobRecord | null> {
    return redisCall(this.redis, async () => {
      const values = await this.redis.hmget(this.key(id), ...RECORD_FIELDS);
      if (values[0] === null) return null;
      const [, kind, owner, status, createdAt, startedAt, finishedAt, progress, result, error] = values;
      return {
        id,
        kind: kind as JobKind,
        owner: owner || null,
        status: status as JobStatus,
        createdAt: createdAt!,
        startedAt: startedAt || null,
        finishedAt: finishedAt || null,
        progress: progress ? JSON.parse(progress) : null,
        ...(result ? { result: JSON.parse(result) as unknown } : {}),
        ...(error ? { error: JSON.parse(error) as JobRecord['error'] } : {}),
      };
    });
  }

  input(id: string): Promise<JobInput | null> {
    return redisCall(this.redis, async () => {
      const key = this.key(id);
      const [spec, names] = await this.redis.hmget(key, 'in:spec', 'in:blobs');
      if (spec === null || names === null) return null;
      const blobNames = JSON.parse(names) as string[];
      const data = blobNames.length ? await this.redis.hmgetBuffer(key, ...blobNames.map((n) => `in:blob:${n}`)) : [];
      const blobs: Record<string, Uint8Array> = {};
      blobNames.forEach((name, i) => (blobs[name] = toBytes(data[i])));
      return { spec: JSON.parse(spec) as unknown, blobs };
    });
  }

  start(id: string): Promise<boolean> {
    return redisCall(this.redis, async () => (await this.redis.jobStart(this.key(id), new Date().toISOString())) === 1);
  }

  progress(id: string, progress: unknown): Promise<void> {
    return redisCall(this.redis, async () => {
      const json = JSON.stringify(progress);
      await this.redis.jobProgress(this.key(id), this.eventsKey(id), json, JSON.stringify({ type: 'progress', data: progress }), this.channel('events'), id);
    });
  }

  finish(id: string, outcome: JobOutcome, { onlyIfQueued = false } = {}): Promise<boolean> {
    return redisCall(this.redis, async () => {
      const artifacts = outcome.status === 'succeeded' ? Object.entries(outcome.artifacts ?? {}) : [];
      const args: (string | number | Buffer)[] = [
        outcome.status,
        new Date().toISOString(),
        outcome.status === 'succeeded' ? JSON.stringify(outcome.result) : '',
        outcome.status === 'succeeded' ? '' : JSON.stringify(outcome.error),
        onlyIfQueued ? '1' : '0',
        this.options.ttlSeconds,
        JSON.stringify({ type: 'end', data: { status: outcome.status } }),
        this.channel('events'),
        id,
      ];
      for (const [name, data] of artifacts) args.push(`art:${name}`, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return (await this.redis.jobFinish(this.key(id), this.eventsKey(id), ...args)) === 1;
    });
  }

  artifact(id: string, name: string): Promise<Uint8Array | null> {
    return redisCall(this.redis, async () => {
      const data = await this.redis.hgetBuffer(this.key(id), `art:${name}`);
      return data ? toBytes(data) : null;
    });
  }

  events(id: string, afterSeq: number): Promise<JobEvent[]> {
    return redisCall(this.redis, async () => {
      const entries = await this.redis.lrange(this.eventsKey(id), afterSeq, -1);
      return entries.map((json, i) => ({ ...(JSON.parse(json) as Omit<JobEvent, 'seq'>), seq: afterSeq + i + 1 }) as JobEvent);
    });
  }

  async subscribe(id: string, listener: (event: JobEvent) => void): Promise<() => void> {
    await this.subscribed;
    this.bus.on(`event:${id}`, listener);
    return () => this.bus.off(`event:${id}`, listener);
  }

  requestCancel(id: string): Promise<void> {
    return redisCall(this.redis, async () => void (await this.redis.jobRequestCancel(this.key(id), this.channel('cancel'), id)));
  }

  cancelRequested(id: string): Promise<boolean> {
    return redisCall(this.redis, async () => (await this.redis.hget(this.key(id), 'cancel')) === '1');
  }

  async onCancelRequest(listener: (id: string) => void): Promise<() => void> {
    await this.subscribed;
    this.bus.on('cancel', listener);
    return () => this.bus.off('cancel', listener);
  }

  /** True while the command connection is up (readiness). */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  async close(): Promise<void> {
    this.bus.removeAllListeners();
    this.subscriber.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private dispatch(channel: string, message: string): void {
    if (channel === this.channel('cancel')) return void this.bus.emit('cancel', message);
    // "<id>\n<seq>\n<event JSON>", written by the progress and finish scripts.
    const [id, seq, json] = message.split('\n', 3);
    const event = { ...(JSON.parse(json) as Omit<JobEvent, 'seq'>), seq: Number(seq) } as JobEvent;
    this.bus.emit(`event:${id}`, event);
  }

  private serialise(record: JobRecord): Record<string, string> {
    return {
      id: record.id,
      kind: record.kind,
      owner: record.owner ?? '',
      status: record.status,
      createdAt: record.createdAt,
      startedAt: record.startedAt ?? '',
      finishedAt: record.finishedAt ?? '',
    };
  }

  private key(id: string): string {
    return `${this.prefix}:job:${id}`;
  }

  private eventsKey(id: string): string {
    return `${this.prefix}:job:${id}:events`;
  }

  private channel(name: 'events' | 'cancel'): string {
    return `${this.prefix}:${name}`;
  }
}

const toBytes = (data: Buffer | null): Uint8Array => (data ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(0));

function throwOnError(results: [Error | null, unknown][] | null): void {
  for (const [err] of results ?? []) if (err) throw err;
}
