import type { JOB_KINDS } from './kinds';

/**
 * A job as every transport and store sees it: plain JSON, no classes, so the same record
 * lives in a Map (embedded) or a Redis hash (distributed). The store and the queue know
 * only this; what a kind's spec, progress and result hold is the kind's business.
 */

/** A registered job kind's name (jobs/kinds/index.ts is the list). */
export type JobKind = keyof typeof JOB_KINDS;
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const FINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];
export const isFinal = (status: JobStatus): boolean => FINAL_STATUSES.includes(status);

/** Ids are randomUUID()s (both stores): anything else names no job and never reaches a store. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isJobId = (id: string): boolean => JOB_ID.test(id);

export interface JobError {
  code: string;
  message: string;
  statusCode: number;
}

export interface JobRecord {
  id: string;
  kind: JobKind;
  /** Who may see the job (a digest of its API key); null when keys are off. */
  owner: string | null;
  status: JobStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: unknown;
  result?: unknown;
  error?: JobError;
}

/** What a job needs to run: its kind's JSON spec and its binary inputs (pixels). */
export interface JobInput {
  spec: unknown;
  blobs: Record<string, Uint8Array>;
}

/** How a job ends: a result and the images it keeps, or an error. */
export type JobOutcome =
  | { status: 'succeeded'; result: unknown; artifacts?: Record<string, Uint8Array> }
  | { status: 'failed' | 'cancelled'; error: JobError };

/**
 * One entry of a job's event log. `seq` counts from 1 per job (the SSE event id); `end` is
 * the last one, written with the final status.
 */
export type JobEvent = { seq: number; type: 'progress'; data: unknown } | { seq: number; type: 'end'; data: { status: JobStatus } };
