import { availableParallelism } from 'node:os';
import type { Log } from '../log';
import type { Config } from '../config';
import type { AttackOutcome, AttackProgress } from '../attacks/attack';
import type { MinimalSearch, AttackSettings, TargetSpec } from '../attacks/types';
import { AppError, appError, invalidParameter } from '../errors';
import { loadCatalog } from '../model/catalog';
import type { ModelManifest } from '../model/manifest';
import type { BackendName, ClassifierEngine, EngineInfo, ImageBatch } from '../model/engine';

/** An engine to use instead of loading the model on threads (tests of the HTTP layer). */
export type EngineFactory = () => Promise<ClassifierEngine>;
import { topK, type Prediction } from '../model/predictions';
import type { CallKind } from './dynamic-batcher';
import { ModelQueue, type JobTiming } from './model-queue';
import { InProcessModelWorker } from './in-process-worker';
import { ModelWorkerClient, type ModelWorker, type RequestWithoutId, type WorkerState } from './model-worker-client';
import type { ModelRef, TrainRequest, WorkerOptions, WorkerResponse } from './protocol';
import type { TrainingProgress, TrainingReport } from '../training/run-training';

import { BASE_MODEL as MODEL_NAME } from '../model/catalog';
const RETRY_AFTER_SECONDS = 5;

export interface ClassifyResult {
  predictions: Prediction[];
  timingMs: JobTiming;
}

/**
 * How many model workers a backend gets: one per core for single-threaded engines (wasm,
 * cpu), one otherwise — a GPU is shared best by one batching worker, and ONNX Runtime and
 * tfjs-node already use every core. ADVPROBE_WORKERS overrides it, except on a GPU.
 */
export function workerCount(configured: number, backend: BackendName, cores = availableParallelism()): number {
  if (backend === 'tfjs-node-gpu') return 1;
  if (configured > 0) return configured;
  return backend === 'wasm' || backend === 'cpu' ? cores : 1;
}

/**
 * The model runtime of a worker process: a pool of model worker threads, the queue of
 * model calls in front of them, classification, attacks and raw engine calls. Up to
 * ADVPROBE_MAX_BATCH jobs of each lane run at once per thread; the thread merges their
 * engine calls into batches. The job queue in front (jobs/) bounds what is accepted, so
 * every call here is admitted: it waits its turn, never refused.
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
    /** Injected: one in-process worker over this engine instead of the thread pool. */
    engine?: EngineFactory,
  ) {
    ({ manifest: this.manifest, labels: this.labels } = loadCatalog(config.ADVPROBE_MODELS_DIR, MODEL_NAME));
    this.queue = new ModelQueue({
      maxQueued: config.ADVPROBE_QUEUE_SIZE,
      timeoutMs: config.ADVPROBE_JOB_TIMEOUT_MS,
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      slots: () => this.readyWorkers().length * config.ADVPROBE_MAX_BATCH,
    });
    if (engine) {
      this.workers.push(
        new InProcessModelWorker(engine, this.workerOptions(config.ADVPROBE_BACKEND), log, {
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

  async classify(pixels: Uint8Array, k: number, model?: ModelRef): Promise<ClassifyResult> {
    this.assertReady();
    // A copy the thread may own: the caller keeps its pixels, and a view into Node's shared
    // Buffer pool (what Redis or an upload hands us) cannot be transferred (DataCloneError).
    const owned = pixels.slice();
    const { value, timing } = await this.queue.run(() => this.leastBusyWorker().request({ type: 'classify', pixels: owned, model }, { transfer: [owned.buffer] }), {
      lane: 'interactive',
      admitted: true,
    });
    const response = expectResponse(value, 'classified');
    return { predictions: topK(response.probabilities, this.labels, k), timingMs: timing };
  }

  /**
   * Logits of `count` images given as model input (FP32 HWC in [0, 1]), as one engine call
   * in the interactive lane: the Open Inference Protocol's batched infer.
   */
  async logitsOf(data: Float32Array, count: number): Promise<{ logits: Float32Array; timingMs: JobTiming }> {
    this.assertReady();
    const owned = data.slice(); // the thread owns its copy (see classify)
    const { value, timing } = await this.queue.run(() => this.leastBusyWorker().request({ type: 'logits', batch: { data: owned, count } }, { transfer: [owned.buffer] }), {
      lane: 'interactive',
      admitted: true,
    });
    return { logits: expectResponse(value, 'logits').logits, timingMs: timing };
  }

  /**
   * Runs an attack through the queue. `signal` cancels it (waiting: it never runs; running:
   * the worker stops before its next step). Resolves with the outcome, or rejects with an
   * AppError: 400 for a request the model showed to be invalid, 409 cancelled, 503 timeout.
   */
  async attack(
    pixels: Uint8Array,
    request: { label: number | null; target: TargetSpec; settings: AttackSettings; search: MinimalSearch | null; model?: ModelRef },
    options: { signal?: AbortSignal; onStart?: () => void; onProgress?: (progress: AttackProgress) => void } = {},
  ): Promise<{ outcome: AttackOutcome; timing: JobTiming }> {
    this.assertReady();
    const { value, timing } = await this.queue.run(
      (signal) => {
        options.onStart?.();
        const { label, target, settings, search, model } = request;
        return this.leastBusyWorker().request({ type: 'attack', pixels, label, target, settings, search, model }, { signal, onProgress: (m) => m.type === 'progress' && options.onProgress?.(m.progress) });
      },
      { signal: options.signal, admitted: true },
    );
    if (value.type === 'cancelled') throw appError('cancelled');
    if (value.type === 'error' && value.field) throw invalidParameter(value.message);
    return { outcome: expectResponse(value, 'attacked').outcome, timing };
  }

  /**
   * The engine, one call per queue turn: for work that drives the model step by step from
   * this thread (evaluations), so other requests interleave between its steps. The calls of
   * an accepted job are not refused when the queue is full; they wait their turn.
   */
  remoteEngine(options: { signal: AbortSignal; onCall?: (timing: JobTiming) => void; model?: ModelRef }): ClassifierEngine {
    const model = options.model;
    const info = this.info();
    const call = async <T extends 'logits' | 'loss-gradient'>(message: Extract<RequestWithoutId, { type: T }>, type: T) => {
      const { value, timing } = await this.queue.run(() => this.leastBusyWorker().request(message, { transfer: ownedBuffers(message) }), { signal: options.signal, admitted: true });
      options.onCall?.(timing);
      return expectResponse(value, type);
    };
    return {
      info,
      logits: async (batch) => (await call({ type: 'logits', batch: copyBatch(batch), model }, 'logits')).logits,
      lossGradient: async (batch, loss) => (await call({ type: 'loss-gradient', batch: copyBatch(batch), loss: { a: loss.a.slice(), b: loss.b.slice() }, model }, 'loss-gradient')).result,
      tensorCount: () => 0,
      dispose: () => undefined,
    };
  }

  /**
   * Adversarial training on one worker thread (it builds its own trainable copy of the
   * model, so other jobs keep being served between its steps). Rejects like attack().
   */
  async train(
    request: Omit<TrainRequest, 'id' | 'type'>,
    options: { signal?: AbortSignal; onProgress?: (progress: TrainingProgress) => void } = {},
  ): Promise<{ report: TrainingReport; model: ModelManifest }> {
    this.assertReady();
    const owned = request.pixels.slice();
    const { value } = await this.queue.run(
      (signal) => this.leastBusyWorker().request({ type: 'train', ...request, pixels: owned }, { signal, transfer: [owned.buffer], onProgress: (m) => m.type === 'training-progress' && options.onProgress?.(m.progress) }),
      { signal: options.signal, admitted: true, timeoutMs: this.config.ADVPROBE_TRAINING_TIMEOUT_MS },
    );
    if (value.type === 'cancelled') throw appError('cancelled');
    // An AppError thrown in the worker (a taken model name: 409), as it was.
    if (value.type === 'error' && value.code && value.status) throw new AppError(value.status, value.code, value.message);
    const { report, model } = expectResponse(value, 'trained');
    return { report, model };
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
    const counts = await Promise.all(this.readyWorkers().map(async (w) => expectResponse(await w.request({ type: 'tensor-count' }), 'tensor-count').count));
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
    const worker = new ModelWorkerClient(this.workerOptions(backend), this.log, {
      onBatch: ({ kind, images }) => this.batchListeners.forEach((listener) => listener(kind, images)),
      onReady: (info) => {
        // The first worker chose the backend; the rest of the pool runs on the same one.
        if (first) for (let n = workerCount(configured, info.backend); this.workers.length < n; ) this.spawnWorker(info.backend);
        this.workerReady();
      },
    });
    this.workers.push(worker);
  }

  private workerOptions(backend: WorkerOptions['backend']): WorkerOptions {
    const { config } = this;
    const configured = config.ADVPROBE_WORKERS;
    return {
      modelsDir: config.ADVPROBE_MODELS_DIR,
      modelName: MODEL_NAME,
      backend,
      // Workers share the cores: with N of them, a multi-threaded engine takes cores / N each.
      threads: config.ADVPROBE_ENGINE_THREADS || (configured > 0 ? Math.max(1, Math.floor(availableParallelism() / configured)) : undefined),
      batching: { maxBatch: config.ADVPROBE_MAX_BATCH, maxDelayMs: config.ADVPROBE_MAX_QUEUE_DELAY_MS },
      maxLoadedModels: config.ADVPROBE_MAX_LOADED_MODELS,
      testHooks: config.ADVPROBE_TEST_HOOKS,
    };
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
    if (ready.length === 0) throw appError('not_ready', { retryAfter: RETRY_AFTER_SECONDS });
    return ready.reduce((best, w) => (w.inFlight < best.inFlight ? w : best));
  }

  /** 503 not_ready while the model loads; 500 model_unavailable if it failed to. */
  assertReady(): void {
    const state = this.state;
    if (state.status === 'failed') throw appError('model_unavailable', {}, { cause: new Error(`the model failed to load: ${state.message}`) });
    if (state.status !== 'ready') throw appError('not_ready', { retryAfter: RETRY_AFTER_SECONDS });
  }
}

const copyBatch = (batch: ImageBatch): ImageBatch => ({ data: batch.data.slice(), count: batch.count });

/** The copies a raw engine request owns, handed to the worker without another copy. */
function ownedBuffers(message: Extract<RequestWithoutId, { type: 'logits' | 'loss-gradient' }>): ArrayBuffer[] {
  const arrays = message.type === 'logits' ? [message.batch.data] : [message.batch.data, message.loss.a, message.loss.b];
  return arrays.map((a) => a.buffer as ArrayBuffer);
}

function expectResponse<T extends WorkerResponse['type']>(response: WorkerResponse, type: T): Extract<WorkerResponse, { type: T }> {
  if (response.type === type) return response as Extract<WorkerResponse, { type: T }>;
  if (response.type === 'error') throw appError('model_error', {}, { cause: new Error(`the model worker failed: ${response.message}`) });
  throw appError('model_error', {}, { cause: new Error(`unexpected worker response ${response.type}`) });
}
