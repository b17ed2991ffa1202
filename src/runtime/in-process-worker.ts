import type { Log } from '../log';
import type { ClassifierEngine } from '../model/engine';
import { createWorkerHandler, type WorkerHandler } from './model-worker';
import type { ModelWorker, RequestOptions, RequestWithoutId, WorkerState } from './model-worker-client';
import type { WorkerOptions, WorkerResponse } from './protocol';

/**
 * A model worker without a thread: the same handler (model-worker.ts) on this event loop,
 * over an engine handed in. For an injected model (tests whose point is the HTTP layer run
 * on a tiny engine in milliseconds); production always runs the model on threads.
 */
export class InProcessModelWorker implements ModelWorker {
  state: WorkerState = { status: 'loading' };
  private handler?: WorkerHandler;
  private nextId = 1;
  private pending = 0;

  constructor(
    engine: () => Promise<ClassifierEngine>,
    options: WorkerOptions,
    log: Log,
    hooks: { onReady?: (info: ClassifierEngine['info']) => void; onBatch?: (message: Extract<WorkerResponse, { type: 'batch' }>) => void } = {},
  ) {
    const started = performance.now();
    engine().then(
      (loaded) => {
        this.handler = createWorkerHandler(loaded, { ...options.batching, onBatch: (kind, images) => hooks.onBatch?.({ type: 'batch', kind, images }) });
        this.state = { status: 'ready', info: loaded.info, skipped: [], loadMs: performance.now() - started };
        hooks.onReady?.(loaded.info);
      },
      (err: unknown) => {
        this.state = { status: 'failed', message: err instanceof Error ? err.message : String(err) };
        log.error({ err }, 'the injected model failed to load');
      },
    );
  }

  get inFlight(): number {
    return this.pending;
  }

  async request(message: RequestWithoutId, { onProgress, signal }: RequestOptions = {}): Promise<WorkerResponse> {
    const handler = this.handler;
    if (!handler) throw new Error('the model is not loaded');
    const id = this.nextId++;
    const cancel = (): void => handler.cancel(id);
    signal?.addEventListener('abort', cancel, { once: true });
    this.pending++;
    try {
      return await handler.handle({ ...message, id } as Parameters<WorkerHandler['handle']>[0], (m) => (m.type === 'progress' || m.type === 'training-progress') && onProgress?.(m));
    } finally {
      this.pending--;
      signal?.removeEventListener('abort', cancel);
    }
  }

  crashForTest(): void {
    throw new Error('an in-process model worker cannot crash on purpose');
  }

  async close(): Promise<void> {
    await this.handler?.stop();
  }
}
