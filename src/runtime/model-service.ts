import type { Log } from '../log';
import type { Config } from '../config';
import { AppError, appError, NotReadyError } from '../errors';
import { toUnit } from '../images/unit-pixels';
import { loadCatalog, BASE_MODEL as MODEL_NAME } from '../model/catalog';
import type { ModelManifest } from '../model/manifest';
import type { ClassifierEngine, EngineInfo } from '../model/engine';
import { softmax, topK, type Prediction } from '../model/predictions';
import type { CallKind } from './dynamic-batcher';
import { logitsTask, lossGradientTask } from './engine-tasks';
import { ModelQueue, type JobTiming, type Lane } from './model-queue';
import { InProcessModelWorker } from './in-process-worker';
import { ModelWorkerClient, type ModelWorker, type WorkerState } from './model-worker-client';
import type { ModelRef, WorkerOptions, WorkerResponse } from './protocol';
import { workerCount, workerOptions } from './worker-options';
import type { WorkerProgram, WorkerTask } from './worker-task';

/** An engine to use instead of loading the model on threads (tests of the HTTP layer). */
export type EngineFactory = () => Promise<ClassifierEngine>;

const RETRY_AFTER_SECONDS = 5;

export interface ClassifyResult {
  predictions: Prediction[];
  timingMs: JobTiming;
}

/** How a task runs: on which model and lane, cancelled by `signal`, with its progress. */
export interface RunOptions<P> {
  model?: ModelRef;
  lane?: Lane;
  /** Cancels the task: waiting, it never runs; running, it stops at its next checkpoint. */
  signal?: AbortSignal;
  /** Buffers of the input handed to the thread without a copy (detached here). */
  transfer?: ArrayBuffer[];
  onProgress?: (progress: P) => void;
}

/**
 * The model runtime of a worker process: a pool of model worker threads and the bounded
 * queue of calls in front of them. It runs tasks (worker-task.ts) by name and knows nothing
 * of what they compute; classification and raw engine calls are its own. Up to
 * ADVPROBE_MAX_BATCH calls of each lane run at once per thread; the thread merges their
 * engine calls into batches.
 */
export class ModelService {
  readonly manifest: ModelManifest;
  readonly labels: string[];
  private readonly workers: ModelWorker[] = [];
  private readonly queue: ModelQueue;
  private readonly batchListeners: ((kind: CallKind, images: number) => void)[] = [];
  private readonly readyListeners: (() => void)[] = [];

  constructor(
    private readonly config: Config,
    private readonly log: Log,
    /** The tasks the workers run, and the thread entry that registers them. */
    private readonly program: WorkerProgram,
    /** Injected: one in-process worker over this engine instead of the thread pool. */
    engine?: EngineFactory,
  ) {
    ({ manifest: this.manifest, labels: this.labels } = loadCatalog(config.ADVPROBE_MODELS_DIR, MODEL_NAME));
    this.queue = new ModelQueue({
      maxQueued: config.ADVPROBE_QUEUE_SIZE,
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      slots: () => this.slots(),
    });
    if (engine) {
      this.workers.push(
        new InProcessModelWorker(engine, workerOptions(config, config.ADVPROBE_BACKEND), program.tasks, log, {
          onReady: () => this.workerReady(),
          onBatch: ({ kind, images }) => this.batchListeners.forEach((listener) => listener(kind, images)),
        }),
      );
    } else this.spawnWorker(config.ADVPROBE_BACKEND);
  }

  /** The pool's state: ready once any worker is; otherwise the first worker's. */
  get state(): WorkerState {
    return this.readyWorkers()[0]?.state ?? this.workers[0].state;
  }

  /** Workers in the pool (ready or not). */
  get workerCount(): number {
    return this.workers.length;
  }

  /** Jobs of a lane that may run at once: ADVPROBE_MAX_BATCH per ready worker thread. */
  slots(): number {
    return this.readyWorkers().length * this.config.ADVPROBE_MAX_BATCH;
  }

  /** The backend of the ready pool ('unknown' before). */
  get backend(): string {
    const state = this.state;
    return state.status === 'ready' ? state.info.backend : 'unknown';
  }

  /** Calls `listener` each time a worker thread becomes ready (the slots grow). */
  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  /** Calls `listener` for each engine call a worker runs: its kind and the images it merged. */
  onBatch(listener: (kind: CallKind, images: number) => void): void {
    this.batchListeners.push(listener);
  }

  /** Resolves once the model is loaded and warmed up; rejects if it fails to load or takes too long. */
  async whenReady(timeoutMs = 300_000): Promise<void> {
    await this.waitUntilReady(() => this.state, timeoutMs);
  }

  /**
   * Resolves once every worker of the pool is ready (the service serves from the first):
   * for tests, whose tensor counts sum over ready workers, and benchmarks using every core.
   */
  async whenAllReady(timeoutMs = 300_000): Promise<void> {
    await this.waitUntilReady(() => this.workers.find((w) => w.state.status !== 'ready')?.state ?? this.state, timeoutMs);
  }

  private async waitUntilReady(stateNow: () => WorkerState, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let state = stateNow(); state.status !== 'ready'; state = stateNow()) {
      if (state.status === 'failed') throw new Error(`the model failed to load: ${state.message}`);
      if (Date.now() > deadline) throw new Error(`the model did not load within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Runs `task` on a worker thread when the queue gives it a turn; refused at once with
   * QueueFullError when the queue is full. Resolves with its output, or rejects with an
   * AppError: the task's own (a 400 the model showed, a taken name), 409 cancelled, the
   * signal's reason, or 500 model_error.
   */
  async run<I, O, P>(task: WorkerTask<I, O, P>, input: I, options: RunOptions<P> = {}): Promise<{ value: O; timing: JobTiming }> {
    this.assertReady();
    const { model, lane, signal, transfer, onProgress } = options;
    const { value, timing } = await this.queue.run(
      (aborted) => this.leastBusyWorker().request({ type: 'run', task: task.name, model, input }, { signal: aborted, transfer, onProgress: (p) => onProgress?.(p as P) }),
      { signal, lane },
    );
    return { value: outputOf(value) as O, timing };
  }

  async classify(pixels: Uint8Array, k: number, model?: ModelRef): Promise<ClassifyResult> {
    const { logits, timingMs } = await this.forward(this.modelInput(pixels), 1, model);
    return { predictions: topK(softmax(logits), this.labels, k), timingMs };
  }

  /**
   * Logits of `count` images given as model input (FP32 HWC in [0, 1]), as one engine call
   * in the interactive lane: the Open Inference Protocol's batched infer.
   */
  logitsOf(data: Float32Array, count: number, model?: ModelRef): Promise<{ logits: Float32Array; timingMs: JobTiming }> {
    // A copy the thread may own: the caller keeps its data, and a view into Node's shared
    // Buffer pool (what Redis or an upload hands us) cannot be transferred (DataCloneError).
    return this.forward(data.slice(), count, model);
  }

  /** One forward call in the interactive lane on data the thread may own. */
  private async forward(owned: Float32Array, count: number, model?: ModelRef): Promise<{ logits: Float32Array; timingMs: JobTiming }> {
    const { value, timing } = await this.run(logitsTask, { data: owned, count }, { model, lane: 'interactive', transfer: [owned.buffer as ArrayBuffer] });
    return { logits: value, timingMs: timing };
  }

  /**
   * The engine, one call per queue turn: for work that drives the model step by step from
   * this thread (evaluations), so other requests interleave between its steps.
   */
  remoteEngine(options: { signal: AbortSignal; onCall?: (timing: JobTiming) => void; model?: ModelRef }): ClassifierEngine {
    const { model, signal } = options;
    const timed = <O>(result: { value: O; timing: JobTiming }): O => {
      options.onCall?.(result.timing);
      return result.value;
    };
    return {
      info: this.info(),
      logits: async (batch) => {
        const data = batch.data.slice(); // the thread owns its copies (see logitsOf)
        return timed(await this.run(logitsTask, { data, count: batch.count }, { model, signal, transfer: [data.buffer] }));
      },
      lossGradient: async (batch, loss) => {
        const owned = { batch: { data: batch.data.slice(), count: batch.count }, loss: { a: loss.a.slice(), b: loss.b.slice() } };
        const transfer = [owned.batch.data.buffer, owned.loss.a.buffer, owned.loss.b.buffer];
        return timed(await this.run(lossGradientTask, owned, { model, signal, transfer }));
      },
      tensorCount: () => 0,
      dispose: () => undefined,
    };
  }

  /** Images one engine call may hold (ADVPROBE_MAX_BATCH): an evaluation's batch. */
  get maxBatch(): number {
    return this.config.ADVPROBE_MAX_BATCH;
  }

  /** The loaded engine's description. */
  info(): EngineInfo {
    this.assertReady();
    return (this.state as Extract<WorkerState, { status: 'ready' }>).info;
  }

  /** Tensors the workers' engines hold together (for leak checks); bypasses the queue on purpose. */
  async tensorCount(): Promise<number> {
    this.assertReady();
    const counts = await Promise.all(
      this.readyWorkers().map(async (w) => {
        const answer = await w.request({ type: 'tensor-count' });
        if (answer.type !== 'tensor-count') throw appError('model_error', {}, { cause: new Error(`unexpected worker response ${answer.type}`) });
        return answer.count;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Test-only: every worker thread exits mid-job (only with ADVPROBE_TEST_HOOKS). */
  crashWorkerForTest(): void {
    for (const worker of this.workers) worker.crashForTest();
  }

  async close(): Promise<void> {
    this.queue.cancelWaiting(appError('shutting_down'));
    await Promise.all(this.workers.map((w) => w.close()));
  }

  private spawnWorker(backend: WorkerOptions['backend']): void {
    const configured = this.config.ADVPROBE_WORKERS;
    const first = this.workers.length === 0;
    const worker = new ModelWorkerClient(this.program.entry, workerOptions(this.config, backend), this.log, {
      onBatch: ({ kind, images }) => this.batchListeners.forEach((listener) => listener(kind, images)),
      onReady: (info) => {
        // The first worker chose the backend; the rest of the pool runs on the same one.
        if (first) for (let n = workerCount(configured, info.backend); this.workers.length < n; ) this.spawnWorker(info.backend);
        this.workerReady();
      },
    });
    this.workers.push(worker);
  }

  private workerReady(): void {
    this.queue.refill();
    this.readyListeners.forEach((listener) => listener());
  }

  private readyWorkers(): ModelWorker[] {
    return this.workers.filter((w) => w.state.status === 'ready');
  }

  /** The ready worker with the fewest requests in flight (the queue only starts a job when one is ready). */
  private leastBusyWorker(): ModelWorker {
    const ready = this.readyWorkers();
    if (ready.length === 0) throw new NotReadyError(RETRY_AFTER_SECONDS);
    return ready.reduce((best, w) => (w.inFlight < best.inFlight ? w : best));
  }

  /** The model's input from 8-bit RGB HWC pixels at its input size. */
  private modelInput(pixels: Uint8Array): Float32Array {
    const { inputHeight: h, inputWidth: w } = this.info();
    if (pixels.length !== h * w * 3) throw appError('model_error', {}, { cause: new Error(`expected ${h}×${w}×3 pixels, got ${pixels.length} values`) });
    return toUnit(pixels);
  }

  /** 503 not_ready while the model loads; 500 model_unavailable if it failed to. */
  assertReady(): void {
    const state = this.state;
    if (state.status === 'failed') throw appError('model_unavailable', {}, { cause: new Error(`the model failed to load: ${state.message}`) });
    if (state.status !== 'ready') throw new NotReadyError(RETRY_AFTER_SECONDS);
  }
}

/** What a task's final answer means for its caller. */
function outputOf(response: WorkerResponse): unknown {
  switch (response.type) {
    case 'result':
      return response.output;
    case 'cancelled':
      throw appError('cancelled');
    case 'error':
      // An AppError thrown in the worker (a 400 the model showed, a taken name: 409), as it was.
      if (response.code && response.status) throw new AppError(response.status, response.code, response.message);
      throw appError('model_error', {}, { cause: new Error(`the model worker failed: ${response.message}`) });
    default:
      throw appError('model_error', {}, { cause: new Error(`unexpected worker response ${response.type}`) });
  }
}
