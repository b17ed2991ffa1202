import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { runAttack } from '../attacks/attack';
import { AttackCancelledError, AttackInputError } from '../attacks/types';
import { AppError } from '../errors';
import { toUnit } from '../images/unit-pixels';
import type { ClassifierEngine } from '../model/engine';
import { softmax } from '../model/predictions';
import { DynamicBatcher, type BatcherOptions } from './dynamic-batcher';
import { ModelCache, type ModelLoader } from './model-cache';
import type { ModelRef, WorkerRequest, WorkerResponse } from './protocol';
import { runTrainRequest } from './train-request';

export interface WorkerHandler {
  /** Runs one request to its final response; progress goes to `emit` on the way. */
  handle(request: Exclude<WorkerRequest, { type: 'cancel' | 'crash' | 'close' }>, emit: (message: WorkerResponse) => void): Promise<WorkerResponse>;
  /** Marks attack `id` cancelled; it stops before its next step. */
  cancel(id: number): void;
  /** Runs no further engine call; resolves when the one in flight has ended (before the thread exits). */
  stop(): Promise<void>;
}

/**
 * What the model worker does with each request, independent of the thread it runs in, so
 * tests drive it in-process (the thread entry, worker-thread.ts, only wires messages).
 * Requests run concurrently; their engine calls meet in the dynamic batcher.
 */
export function createWorkerHandler(engine: ClassifierEngine, batching: BatcherOptions = { maxBatch: 1, maxDelayMs: 0 }, loader?: ModelLoader): WorkerHandler {
  const { inputHeight, inputWidth } = engine.info;
  const batcher = new DynamicBatcher(engine, batching);
  const models = new ModelCache(batching, loader);
  /** The batcher of the model a request names: the loaded one, or a trained one from the cache. */
  const batcherFor = async (ref: ModelRef | undefined): Promise<DynamicBatcher> => (ref ? models.acquire(ref) : batcher);
  const cancelled = new Set<number>();
  const running = new Set<number>();
  const modelInput = (pixels: Uint8Array): Float32Array => {
    if (pixels.length !== inputHeight * inputWidth * 3) {
      throw new Error(`expected ${inputHeight}×${inputWidth}×3 pixels, got ${pixels.length} values`);
    }
    return toUnit(pixels);
  };

  return {
    cancel: (id) => {
      if (running.has(id)) cancelled.add(id);
    },
    stop: async () => {
      await Promise.all([batcher.pause(), models.pause()]);
    },
    async handle(request, emit) {
      const started = performance.now();
      running.add(request.id);
      const ref = request.type === 'tensor-count' || request.type === 'train' ? undefined : request.model;
      let model: ReturnType<DynamicBatcher['session']> | undefined;
      try {
        model = (await batcherFor(ref)).session(); // this request's view of the engine
        switch (request.type) {
          case 'classify': {
            const logits = await model.logits({ data: modelInput(request.pixels), count: 1 });
            return { type: 'classified', id: request.id, probabilities: softmax(logits), computeMs: performance.now() - started };
          }
          case 'attack': {
            const outcome = await runAttack(model, { x: modelInput(request.pixels), label: request.label, target: request.target }, request.settings, {
              // Yield to the event loop between steps so a cancel message can arrive.
              beforeStep: async () => {
                await yieldToEvents();
                if (cancelled.has(request.id)) throw new AttackCancelledError();
              },
              onProgress: (progress) => emit({ type: 'progress', id: request.id, progress }),
            }, request.search);
            return { type: 'attacked', id: request.id, outcome, computeMs: performance.now() - started };
          }
          case 'logits':
            return { type: 'logits', id: request.id, logits: await model.logits(request.batch) };
          case 'loss-gradient':
            return { type: 'loss-gradient', id: request.id, result: await model.lossGradient(request.batch, request.loss) };
          case 'tensor-count':
            return { type: 'tensor-count', id: request.id, count: engine.tensorCount() + models.tensorCount() };
          case 'train': {
            if (!loader) throw new Error('this worker runs an injected engine and cannot train');
            const outcome = await runTrainRequest(request, loader, {
              beforeStep: async () => {
                await yieldToEvents();
                if (cancelled.has(request.id)) throw new AttackCancelledError();
              },
              onProgress: (progress) => emit({ type: 'training-progress', id: request.id, progress }),
            });
            return { type: 'trained', id: request.id, ...outcome };
          }
        }
      } catch (err) {
        if (err instanceof AttackCancelledError) return { type: 'cancelled', id: request.id };
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof AppError) return { type: 'error', id: request.id, message, code: err.code, status: err.statusCode };
        return { type: 'error', id: request.id, message, ...(err instanceof AttackInputError ? { field: err.field } : {}) };
      } finally {
        model?.close();
        if (ref) models.release(ref);
        running.delete(request.id);
        cancelled.delete(request.id);
      }
    },
  };
}
