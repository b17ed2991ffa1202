import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Log } from '../log';
import { appError } from '../errors';
import type { EngineSelection } from '../model/load-engine';
import type { EngineInfo } from '../model/engine';
import type { AnsweredRequest, RunRequest, WorkerOptions, WorkerRequest, WorkerResponse } from './protocol';

type Pending = { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void; onProgress?: (progress: unknown) => void };
type BatchMessage = Extract<WorkerResponse, { type: 'batch' }>;
export type RequestWithoutId = Omit<RunRequest, 'id'> | Omit<Exclude<AnsweredRequest, RunRequest>, 'id'>;

export interface RequestOptions {
  transfer?: ArrayBuffer[];
  onProgress?: (progress: unknown) => void;
  /** Aborting sends a cancel; the worker then answers `cancelled` before its next step. */
  signal?: AbortSignal;
}

export type WorkerState =
  | { status: 'loading' }
  | { status: 'ready'; info: EngineInfo; skipped: EngineSelection['skipped']; loadMs: number }
  | { status: 'failed'; message: string };

/** What the model service needs of one model worker: a thread (below) or, injected, one in-process. */
export interface ModelWorker {
  readonly state: WorkerState;
  readonly inFlight: number;
  request(message: RequestWithoutId, options?: RequestOptions): Promise<WorkerResponse>;
  crashForTest(): void;
  close(): Promise<void>;
}

/**
 * The HTTP side of the model worker thread: spawns it, matches responses to requests by
 * id, and respawns the thread if it dies (the requests it held fail with a clear error;
 * nothing waits forever).
 */
export class ModelWorkerClient implements ModelWorker {
  private worker!: Worker;
  /** Settles when the current thread has exited (already, for one that has). */
  private exited!: Promise<void>;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closing = false;
  state: WorkerState = { status: 'loading' };

  constructor(
    /** The thread entry (WorkerProgram.entry), without its extension. */
    private readonly entry: string,
    private readonly options: WorkerOptions,
    private readonly log: Log,
    private readonly hooks: {
      /** Each engine call the worker ran (kind and images merged). */
      onBatch?: (message: BatchMessage) => void;
      /** The worker loaded its model (again, after a restart). */
      onReady?: (info: EngineInfo) => void;
    } = {},
  ) {
    this.spawn();
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  request(message: RequestWithoutId, { transfer = [], onProgress, signal }: RequestOptions = {}): Promise<WorkerResponse> {
    const id = this.nextId++;
    const worker = this.worker;
    const cancel = (): void => worker.postMessage({ type: 'cancel', id } satisfies WorkerRequest);
    return new Promise<WorkerResponse>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      signal?.addEventListener('abort', cancel, { once: true });
      worker.postMessage({ ...message, id } as WorkerRequest, transfer);
    }).finally(() => signal?.removeEventListener('abort', cancel));
  }

  /** Test-only (the worker obeys only with ADVPROBE_TEST_HOOKS): make the thread exit now. */
  crashForTest(): void {
    this.worker.postMessage({ type: 'crash', id: 0 } satisfies WorkerRequest);
  }

  /** Asks the thread to exit after its engine call in flight; terminates it only if it does not within `graceMs`. */
  async close(graceMs = 30_000): Promise<void> {
    this.closing = true;
    const { worker, exited } = this;
    worker.postMessage({ type: 'close', id: 0 } satisfies WorkerRequest);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
    clearTimeout(timer);
  }

  private spawn(): void {
    const ext = path.extname(__filename); // .ts under tsx/jest, .js once built
    const entry = `${this.entry}${ext}`;
    const execArgv = ext === '.ts' ? ['--require', require.resolve('tsx/cjs')] : [];
    this.state = { status: 'loading' };
    const worker = new Worker(entry, { workerData: this.options, execArgv });
    this.worker = worker;
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: WorkerResponse) => this.onMessage(message));
    let lastError = '';
    worker.on('error', (err) => {
      lastError = err.message;
      this.log.error({ err }, 'model worker error');
    });
    worker.on('exit', (code) => {
      if (this.closing) return;
      this.failPending(appError('worker_crashed', {}, { cause: new Error(`the model worker thread exited with code ${code}`) }));
      if (this.state.status !== 'ready') {
        // It never came up: respawning would only loop. /readyz reports why.
        if (this.state.status === 'loading') this.state = { status: 'failed', message: `model worker exited while loading: ${lastError || `exit code ${code}`}` };
        return;
      }
      this.log.error({ code }, 'model worker exited; starting a new one');
      this.spawn();
    });
  }

  private onMessage(message: WorkerResponse): void {
    switch (message.type) {
      case 'ready':
        this.state = { status: 'ready', info: message.info, skipped: message.skipped, loadMs: message.loadMs };
        this.log.info({ backend: message.info.backend, skipped: message.skipped, loadMs: Math.round(message.loadMs) }, 'model ready');
        this.hooks.onReady?.(message.info);
        return;
      case 'load-failed':
        this.state = { status: 'failed', message: message.message };
        this.log.error({ reason: message.message }, 'model failed to load');
        void this.worker.terminate();
        return;
      case 'progress':
        this.pending.get(message.id)?.onProgress?.(message.progress);
        return;
      case 'batch':
        this.hooks.onBatch?.(message);
        return;
      default: {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        pending?.resolve(message);
      }
    }
  }

  private failPending(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
