import path from 'node:path';
import type { Log } from '../log';
import type { Config } from '../config';
import type { AttackOutcome, AttackProgress } from '../attacks/attack';
import type { MinimalSearch, PgdSettings, TargetSpec } from '../attacks/types';
import { AppError, NotReadyError, badRequest } from '../errors';
import { readLabels } from '../model/labels';
import { modelFolder, readManifest, type ModelManifest } from '../model/manifest';
import type { ClassifierEngine, EngineInfo, ImageBatch } from '../model/engine';
import { topK, type Prediction } from '../model/predictions';
import { JobQueue, type JobTiming } from './job-queue';
import { ModelWorkerClient, type RequestWithoutId, type WorkerState } from './model-worker-client';
import type { WorkerResponse } from './protocol';

const MODEL_NAME = 'resnet50';
const RETRY_AFTER_SECONDS = 5;

export interface ClassifyResult {
  predictions: Prediction[];
  timingMs: JobTiming;
}

/**
 * Everything the HTTP routes need from the model: its description, its state, and
 * classification through the bounded queue to the single model worker thread.
 */
export class ModelService {
  readonly manifest: ModelManifest;
  readonly labels: string[];
  private readonly worker: ModelWorkerClient;
  private readonly queue: JobQueue;

  constructor(config: Config, log: Log) {
    this.manifest = readManifest(config.ADVPROBE_MODELS_DIR, MODEL_NAME);
    this.labels = readLabels(path.join(modelFolder(config.ADVPROBE_MODELS_DIR, this.manifest), this.manifest.labelsFile), this.manifest.numClasses);
    this.worker = new ModelWorkerClient(
      { modelsDir: config.ADVPROBE_MODELS_DIR, modelName: MODEL_NAME, backend: config.ADVPROBE_BACKEND, testHooks: config.ADVPROBE_TEST_HOOKS },
      log,
    );
    this.queue = new JobQueue({ maxQueued: config.ADVPROBE_QUEUE_SIZE, timeoutMs: config.ADVPROBE_JOB_TIMEOUT_MS, retryAfterSeconds: RETRY_AFTER_SECONDS });
  }

  get state(): WorkerState {
    return this.worker.state;
  }

  /** Resolves once the model is loaded and warmed up; rejects if it fails to load or takes too long. */
  async whenReady(timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let state = this.state; state.status !== 'ready'; state = this.state) {
      if (state.status === 'failed') throw new Error(`the model failed to load: ${state.message}`);
      if (Date.now() > deadline) throw new Error(`the model did not load within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  get queueLength(): number {
    return this.queue.length;
  }

  async classify(pixels: Uint8Array, k: number): Promise<ClassifyResult> {
    this.assertReady();
    const { value, timing } = await this.queue.run(() => this.worker.request({ type: 'classify', pixels }, { transfer: [pixels.buffer as ArrayBuffer] }));
    const response = expectResponse(value, 'classified');
    return { predictions: topK(response.probabilities, this.labels, k), timingMs: timing };
  }

  /**
   * Runs an attack through the queue. `signal` cancels it (waiting: it never runs; running:
   * the worker stops before its next step). Resolves with the outcome, or rejects with an
   * AppError: 400 for a request the model showed to be invalid, 409 cancelled, 503 timeout.
   */
  async attack(
    pixels: Uint8Array,
    request: { label: number | null; target: TargetSpec; settings: PgdSettings; search: MinimalSearch | null },
    options: { signal?: AbortSignal; onStart?: () => void; onProgress?: (progress: AttackProgress) => void } = {},
  ): Promise<{ outcome: AttackOutcome; timing: JobTiming }> {
    this.assertReady();
    const { value, timing } = await this.queue.run(
      (signal) => {
        options.onStart?.();
        const { label, target, settings, search } = request;
        return this.worker.request({ type: 'attack', pixels, label, target, settings, search }, { signal, onProgress: (m) => options.onProgress?.(m.progress) });
      },
      { signal: options.signal },
    );
    if (value.type === 'cancelled') throw new AppError(409, 'cancelled', 'the job was cancelled');
    if (value.type === 'error' && value.field) throw badRequest('invalid_parameter', value.message);
    return { outcome: expectResponse(value, 'attacked').outcome, timing };
  }

  /**
   * The engine, one call per queue turn: for work that drives the model step by step from
   * this thread (evaluations), so other requests interleave between its steps. The calls of
   * an accepted job are not refused when the queue is full; they wait their turn.
   */
  remoteEngine(options: { signal: AbortSignal; onCall?: (timing: JobTiming) => void }): ClassifierEngine {
    const info = this.info();
    const call = async <T extends 'logits' | 'loss-gradient'>(message: Extract<RequestWithoutId, { type: T }>, type: T) => {
      const { value, timing } = await this.queue.run(() => this.worker.request(message, { transfer: ownedBuffers(message) }), { signal: options.signal, admitted: true });
      options.onCall?.(timing);
      return expectResponse(value, type);
    };
    return {
      info,
      logits: async (batch) => (await call({ type: 'logits', batch: copyBatch(batch) }, 'logits')).logits,
      lossGradient: async (batch, loss) => (await call({ type: 'loss-gradient', batch: copyBatch(batch), loss: { a: loss.a.slice(), b: loss.b.slice() } }, 'loss-gradient')).result,
      tensorCount: () => 0,
      dispose: () => undefined,
    };
  }

  /** The loaded engine's description. */
  info(): EngineInfo {
    this.assertReady();
    return (this.worker.state as Extract<WorkerState, { status: 'ready' }>).info;
  }

  /** Throws QueueFullError now if a job submitted now would be refused. */
  assertQueueRoom(): void {
    this.assertReady();
    this.queue.assertRoom();
  }

  /** Tensors the worker's engine holds (for leak checks); bypasses the queue on purpose. */
  async tensorCount(): Promise<number> {
    this.assertReady();
    return expectResponse(await this.worker.request({ type: 'tensor-count' }), 'tensor-count').count;
  }

  /** Test-only: the worker thread exits mid-job (only with ADVPROBE_TEST_HOOKS). */
  crashWorkerForTest(): void {
    this.worker.crashForTest();
  }

  async close(): Promise<void> {
    this.queue.cancelWaiting(new AppError(503, 'shutting_down', 'the service is shutting down', { 'retry-after': String(RETRY_AFTER_SECONDS) }));
    await this.worker.close();
  }

  private assertReady(): void {
    const state = this.worker.state;
    if (state.status === 'failed') throw new AppError(500, 'model_unavailable', `the model failed to load: ${state.message}`);
    if (state.status !== 'ready') throw new NotReadyError(RETRY_AFTER_SECONDS);
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
  if (response.type === 'error') throw new AppError(500, 'model_error', `the model worker failed: ${response.message}`);
  throw new AppError(500, 'model_error', `unexpected worker response ${response.type}`);
}
