import type { ClassifierEngine } from '../model/engine';
import type { ModelLoader } from './model-cache';
import type { ModelRef } from './protocol';

/**
 * What a task may do on the model worker thread besides computing: use the engine of the
 * model its request names, load other models, stop when cancelled, report progress.
 */
export interface TaskContext<P> {
  /** The model the request names; undefined: the worker's own. */
  readonly model: ModelRef | undefined;
  /** That model's engine, as this task's session of the dynamic batcher (opened on first use). */
  engine(): Promise<ClassifierEngine>;
  /** How this worker loads models (a trainable copy); undefined on an injected engine. */
  readonly loader: ModelLoader | undefined;
  /** Call between steps: yields so a cancel can arrive, then throws TaskCancelledError if one has. */
  checkpoint(): Promise<void>;
  progress(progress: P): void;
}

export interface TaskResult<O> {
  output: O;
  /** Buffers of `output` handed to the other thread without a copy (they are detached here). */
  transfer?: ArrayBuffer[];
}

/**
 * Work a job kind runs inside the model worker, under a name both sides know: the kind's
 * side calls ModelService.run(task, input) and the worker thread runs `run` on its engine.
 * The runtime never looks inside `input` or `output`; an AppError thrown here reaches the
 * caller with its code and status, anything else as a 500 model_error.
 */
export interface WorkerTask<I, O, P = never> {
  readonly name: string;
  run(input: I, context: TaskContext<P>): Promise<TaskResult<O>>;
}

/** A task of any input and output, as the worker's registry holds it. */
export type SomeWorkerTask = WorkerTask<never, unknown, never>;

/** The worker-side code of a deployment: the tasks, and the thread entry that registers the same ones. */
export interface WorkerProgram {
  tasks: readonly SomeWorkerTask[];
  /** The thread entry's path without its extension (.ts under tsx and jest, .js once built). */
  entry: string;
}

/** Thrown by TaskContext.checkpoint once the task was cancelled; the worker answers `cancelled`. */
export class TaskCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'TaskCancelledError';
  }
}
