import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { AppError } from '../errors';
import type { ClassifierEngine } from '../model/engine';
import { DynamicBatcher, type BatcherOptions, type BatchSession } from './dynamic-batcher';
import { ENGINE_TASKS } from './engine-tasks';
import { ModelCache, type ModelLoader } from './model-cache';
import type { AnsweredRequest, Answer, RunRequest, WorkerResponse } from './protocol';
import { TaskCancelledError, type SomeWorkerTask, type TaskContext } from './worker-task';

export interface WorkerHandler {
  /** Answers one request; a task's progress goes to `emit` on the way. */
  handle(request: AnsweredRequest, emit: (message: WorkerResponse) => void): Promise<Answer>;
  /** Marks task `id` cancelled; it stops at its next checkpoint. */
  cancel(id: number): void;
  /** Runs no further engine call; resolves when the one in flight has ended (before the thread exits). */
  stop(): Promise<void>;
}

export interface HandlerOptions {
  /** Tasks besides the engine's own (logits, loss-gradient). */
  tasks?: readonly SomeWorkerTask[];
  batching?: BatcherOptions;
  /** How to load trained models and trainable copies; absent on an injected engine. */
  loader?: ModelLoader;
}

/**
 * What the model worker does with each request, independent of the thread it runs in, so
 * tests drive it in-process (the thread entry, worker-thread.ts, only wires messages).
 * Tasks run concurrently; their engine calls meet in the dynamic batcher.
 */
export function createWorkerHandler(engine: ClassifierEngine, { tasks = [], batching = { maxBatch: 1, maxDelayMs: 0 }, loader }: HandlerOptions = {}): WorkerHandler {
  const registry = new Map<string, SomeWorkerTask>([...ENGINE_TASKS, ...tasks].map((task) => [task.name, task as SomeWorkerTask]));
  const batcher = new DynamicBatcher(engine, batching);
  const models = new ModelCache(batching, loader);
  const cancelled = new Set<number>();
  const running = new Set<number>();

  const run = async (request: RunRequest, emit: (message: WorkerResponse) => void): Promise<Answer> => {
    const { id, model: ref } = request;
    let session: Promise<BatchSession> | undefined;
    let acquired = false; // the cache counts a user from acquire on, a failed load included
    const open = async (): Promise<BatchSession> => {
      acquired = ref !== undefined;
      return (ref ? await models.acquire(ref) : batcher).session();
    };
    const context: TaskContext<unknown> = {
      model: ref,
      loader,
      engine: () => (session ??= open()),
      checkpoint: async () => {
        await yieldToEvents(); // lets a cancel message arrive between steps
        if (cancelled.has(id)) throw new TaskCancelledError();
      },
      progress: (progress) => emit({ type: 'progress', id, progress }),
    };
    running.add(id);
    try {
      const task = registry.get(request.task);
      if (!task) throw new Error(`this worker has no task ${request.task}`);
      const { output, transfer = [] } = await task.run(request.input as never, context);
      return { message: { type: 'result', id, output }, transfer };
    } catch (err) {
      return { message: errorMessage(id, err), transfer: [] };
    } finally {
      (await session?.catch(() => undefined))?.close();
      if (ref && acquired) models.release(ref);
      running.delete(id);
      cancelled.delete(id);
    }
  };

  return {
    cancel: (id) => {
      if (running.has(id)) cancelled.add(id);
    },
    stop: async () => {
      await Promise.all([batcher.pause(), models.pause()]);
    },
    async handle(request, emit) {
      if (request.type === 'run') return run(request, emit);
      return { message: { type: 'tensor-count', id: request.id, count: engine.tensorCount() + models.tensorCount() }, transfer: [] };
    },
  };
}

function errorMessage(id: number, err: unknown): WorkerResponse {
  if (err instanceof TaskCancelledError) return { type: 'cancelled', id };
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof AppError) return { type: 'error', id, message, code: err.code, status: err.statusCode };
  return { type: 'error', id, message };
}
