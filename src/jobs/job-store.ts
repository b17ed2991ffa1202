import { appError } from '../errors';
import type { JobEvent, JobInput, JobKind, JobOutcome, JobRecord } from './job-record';

export interface NewJob {
  kind: JobKind;
  owner: string | null;
  input: JobInput;
}

/**
 * How processes tell each other about jobs: each job's event log, and cancel requests that
 * reach whichever process runs the job. Part of the store (both live in the same place).
 */
export interface JobEventBus {
  /** The job's events after `afterSeq`, oldest first. */
  events(id: string, afterSeq: number): Promise<JobEvent[]>;
  /** Calls `listener` with each new event of job `id`, from any process; returns unsubscribe. */
  subscribe(id: string, listener: (event: JobEvent) => void): Promise<() => void>;
  /** Asks whoever runs job `id` to stop it; the flag stays for a worker that starts it later. */
  requestCancel(id: string): Promise<void>;
  cancelRequested(id: string): Promise<boolean>;
  /** Calls `listener` with the id of each job someone asked to cancel, from any process. */
  onCancelRequest(listener: (id: string) => void): Promise<() => void>;
}

/**
 * Where jobs, their inputs, results, images and event logs live. Two implementations
 * (memory/, redis/) pass one contract suite (test/helpers/job-store-contract.ts). Finished jobs
 * are kept for the TTL; transitions are atomic, so a job ends exactly once whoever races to
 * end it.
 */
export interface JobStore extends JobEventBus {
  /** Stores a new queued job with its input. 503 too_many_jobs when the store is full. */
  create(job: NewJob): Promise<JobRecord>;
  /** The job if it exists, has not expired and belongs to `owner`; else 404 job_not_found. */
  get(id: string, owner: string | null, kind?: JobKind): Promise<JobRecord>;
  /** The job whoever owns it, or null (the worker side). */
  find(id: string): Promise<JobRecord | null>;
  input(id: string): Promise<JobInput | null>;
  /** queued → running; false if the job is no longer queued (cancelled, expired). */
  start(id: string): Promise<boolean>;
  /** Records the latest progress and appends it to the event log. */
  progress(id: string, progress: unknown): Promise<void>;
  /** Ends the job unless it has ended already (then false). `onlyIfQueued`: only a job nobody runs. */
  finish(id: string, outcome: JobOutcome, options?: { onlyIfQueued?: boolean }): Promise<boolean>;
  artifact(id: string, name: string): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

/**
 * Resolves with the job once it has a final status; `signal` gives up waiting. Events
 * bring the end at once; a slow poll covers one published while a subscriber was away.
 */
export async function waitForEnd(store: JobStore, id: string, signal?: AbortSignal): Promise<JobRecord> {
  let ended!: () => void;
  const end = new Promise<void>((resolve) => (ended = resolve));
  // Subscribed before the first read, so an end between the two is not missed.
  const unsubscribe = await store.subscribe(id, (event) => event.type === 'end' && ended());
  const poll = setInterval(() => void store.find(id).then((r) => (!r || r.finishedAt !== null) && ended(), () => undefined), END_POLL_MS);
  try {
    const now = await store.find(id);
    if (now && now.finishedAt === null) {
      await new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        void end.then(resolve);
      });
    }
    const record = await store.find(id);
    if (!record) throw appError('job_not_found', { detail: `job ${id} expired` });
    return record;
  } finally {
    clearInterval(poll);
    unsubscribe();
  }
}

const END_POLL_MS = 2_000;
