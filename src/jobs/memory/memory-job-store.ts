import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type AppError, appError } from '../../errors';
import { isFinal, type JobEvent, type JobKind, type JobInput, type JobOutcome, type JobRecord } from '../job-record';
import type { JobStore, NewJob } from '../job-store';

interface Entry {
  record: JobRecord;
  input: JobInput | null;
  artifacts: Record<string, Uint8Array>;
  events: JobEvent[];
  cancelRequested: boolean;
}

export interface StoreLimits {
  ttlSeconds: number;
  /** Most jobs kept at once; when full the oldest finished goes first, active ones never. */
  maxJobs: number;
}

/**
 * The embedded store: jobs in a Map of this process. Finished jobs stay for the TTL and
 * never more than `maxJobs` at once. Events and cancels go through an EventEmitter.
 */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, Entry>();
  private readonly bus = new EventEmitter().setMaxListeners(0);
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly limits: StoreLimits) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(30_000, limits.ttlSeconds * 1000)).unref();
  }

  async create({ kind, owner, input }: NewJob): Promise<JobRecord> {
    this.sweep();
    if (this.jobs.size >= this.limits.maxJobs) {
      const oldest = [...this.jobs.values()]
        .filter((e) => e.record.finishedAt !== null)
        .sort((a, b) => a.record.finishedAt!.localeCompare(b.record.finishedAt!))[0];
      if (!oldest) throw appError('too_many_jobs');
      this.jobs.delete(oldest.record.id);
    }
    const record: JobRecord = { id: randomUUID(), kind, owner, status: 'queued', createdAt: new Date().toISOString(), startedAt: null, finishedAt: null, progress: null };
    this.jobs.set(record.id, { record, input, artifacts: {}, events: [], cancelRequested: false });
    return { ...record };
  }

  async get(id: string, owner: string | null, kind?: JobKind): Promise<JobRecord> {
    const record = await this.find(id);
    if (!record || record.owner !== owner || (kind && record.kind !== kind)) throw jobNotFound(id, this.limits.ttlSeconds);
    return record;
  }

  async find(id: string): Promise<JobRecord | null> {
    const entry = this.entry(id);
    return entry ? { ...entry.record } : null;
  }

  async input(id: string): Promise<JobInput | null> {
    return this.entry(id)?.input ?? null;
  }

  async start(id: string): Promise<boolean> {
    const entry = this.entry(id);
    if (!entry || entry.record.status !== 'queued') return false;
    entry.record.status = 'running';
    entry.record.startedAt = new Date().toISOString();
    return true;
  }

  async progress(id: string, progress: unknown): Promise<void> {
    const entry = this.entry(id);
    if (!entry || isFinal(entry.record.status)) return;
    entry.record.progress = progress;
    this.append(entry, { type: 'progress', data: progress });
  }

  async finish(id: string, outcome: JobOutcome, { onlyIfQueued = false } = {}): Promise<boolean> {
    const entry = this.entry(id);
    if (!entry || isFinal(entry.record.status) || (onlyIfQueued && entry.record.status !== 'queued')) return false;
    const { record } = entry;
    record.status = outcome.status;
    record.finishedAt = new Date().toISOString();
    if (outcome.status === 'succeeded') {
      record.result = outcome.result;
      entry.artifacts = outcome.artifacts ?? {};
    } else record.error = outcome.error;
    entry.input = null; // the inputs are spent; the kept images are artifacts
    this.append(entry, { type: 'end', data: { status: outcome.status } });
    return true;
  }

  async artifact(id: string, name: string): Promise<Uint8Array | null> {
    return this.entry(id)?.artifacts[name] ?? null;
  }

  async events(id: string, afterSeq: number): Promise<JobEvent[]> {
    return (this.entry(id)?.events ?? []).filter((e) => e.seq > afterSeq);
  }

  async subscribe(id: string, listener: (event: JobEvent) => void): Promise<() => void> {
    this.bus.on(`event:${id}`, listener);
    return () => this.bus.off(`event:${id}`, listener);
  }

  async requestCancel(id: string): Promise<void> {
    const entry = this.entry(id);
    if (!entry) return;
    entry.cancelRequested = true;
    this.bus.emit('cancel', id);
  }

  async cancelRequested(id: string): Promise<boolean> {
    return this.entry(id)?.cancelRequested ?? false;
  }

  async onCancelRequest(listener: (id: string) => void): Promise<() => void> {
    this.bus.on('cancel', listener);
    return () => this.bus.off('cancel', listener);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.bus.removeAllListeners();
  }

  private append(entry: Entry, event: Omit<JobEvent, 'seq'>): void {
    const full = { ...event, seq: entry.events.length + 1 } as JobEvent;
    entry.events.push(full);
    this.bus.emit(`event:${entry.record.id}`, full);
  }

  private entry(id: string): Entry | undefined {
    const entry = this.jobs.get(id);
    if (entry && this.expired(entry)) {
      this.jobs.delete(id);
      return undefined;
    }
    return entry;
  }

  private expired({ record }: Entry): boolean {
    return record.finishedAt !== null && Date.now() - Date.parse(record.finishedAt) >= this.limits.ttlSeconds * 1000;
  }

  private sweep(): void {
    for (const [id, entry] of this.jobs) if (this.expired(entry)) this.jobs.delete(id);
  }
}

export const jobNotFound = (id: string, ttlSeconds: number): AppError =>
  appError('job_not_found', { detail: `no job ${id} (finished jobs are kept for ${ttlSeconds} s)` });
