import type { BackendChoice, EngineInfo } from '../model/engine';
import type { EngineSelection } from '../model/load-engine';
import type { CallKind } from './dynamic-batcher';

/**
 * Messages between the model service and a model worker thread, discriminated by `type`.
 * The worker runs named tasks (worker-task.ts) without knowing what they compute: "run task
 * T on input I", answered by progress, then a result, an error or `cancelled`. Buffers are
 * transferred, not copied, both ways.
 */
export interface WorkerOptions {
  modelsDir: string;
  modelName: string;
  backend: BackendChoice;
  /** Threads of a CPU engine (ONNX Runtime); undefined: every core. */
  threads?: number;
  batching: { maxBatch: number; maxDelayMs: number };
  /** Trained models kept loaded at once besides `modelName`. */
  maxLoadedModels: number;
  /** Test-only: obey `crash` requests. */
  testHooks: boolean;
}

/**
 * A model other than the one the worker loaded at start (a trained one), as the job's side
 * resolved it in the model store: the worker loads it on first use and keeps a few.
 * `version` tells a model apart from an earlier one of the same name.
 */
export interface ModelRef {
  name: string;
  modelsDir: string;
  version: string;
}

/** Runs task `task` (a name the worker registered) on `input`, with the model `model` names (absent: the loaded one). */
export interface RunRequest {
  type: 'run';
  id: number;
  task: string;
  model?: ModelRef;
  input: unknown;
}

/** Tensors the worker's engines hold (leak checks). */
export interface TensorCountRequest {
  type: 'tensor-count';
  id: number;
}

export type WorkerRequest =
  | RunRequest
  | TensorCountRequest
  /** Stops the running task `id` at its next checkpoint. Handled at once, not queued. */
  | { type: 'cancel'; id: number }
  /** Test-only (ADVPROBE_TEST_HOOKS): the thread exits at once, as if it had crashed. */
  | { type: 'crash'; id: number }
  /** Shutdown: the thread exits once the engine call in flight has ended; nothing more is answered. */
  | { type: 'close'; id: number };

/** The requests a worker answers (the others are handled on arrival). */
export type AnsweredRequest = RunRequest | TensorCountRequest;

export type WorkerResponse =
  | { type: 'ready'; info: EngineInfo; skipped: EngineSelection['skipped']; loadMs: number }
  | { type: 'load-failed'; message: string }
  /** One engine call ran, merging this many images (for the batch-size metric). */
  | { type: 'batch'; kind: CallKind; images: number }
  | { type: 'progress'; id: number; progress: unknown }
  | { type: 'result'; id: number; output: unknown }
  | { type: 'cancelled'; id: number }
  | { type: 'tensor-count'; id: number; count: number }
  /** `code` and `status` when the task threw an AppError (a client's mistake, a taken name): it keeps them. */
  | { type: 'error'; id: number; message: string; code?: string; status?: number };

/** A final answer and the buffers it hands over without a copy. */
export interface Answer {
  message: WorkerResponse;
  transfer: ArrayBuffer[];
}
