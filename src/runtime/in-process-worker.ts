import type { Log } from '../log';
import type { ClassifierEngine } from '../model/engine';
import { createWorkerHandler, type WorkerHandler } from './model-worker';
import type { ModelWorker, RequestOptions, RequestWithoutId, WorkerState } from './model-worker-client';
import type { AnsweredRequest, WorkerOptions, WorkerResponse } from './protocol';
import type { SomeWorkerTask } from './worker-task';

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
    tasks: readonly SomeWorkerTask[],
    log: Log,
    hooks: { onReady?: (info: ClassifierEngine['info']) => void; onBatch?: (message: Extract<WorkerResponse, { type: 'batch' }>) => void } = {},
  ) {
    const started = performance.now();
    engine().then(
      (loaded) => {
        const batching = { ...options.batching, onBatch: (kind: 'logits' | 'gradient', images: number) => hooks.onBatch?.({ type: 'batch', kind, images }) };
        this.handler = createWorkerHandler(loaded, { tasks, batching });
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
      const answer = await handler.handle({ ...message, id } as AnsweredRequest, (m) => m.type === 'progress' && onProgress?.(m.progress));
      return answer.message;
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
