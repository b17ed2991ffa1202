import type { AttackOutcome, AttackProgress } from '../attacks/attack';
import type { MinimalSearch, AttackSettings, TargetSpec } from '../attacks/types';
import type { BackendChoice, EngineInfo, ImageBatch, LossCoefficients, LossGradient } from '../model/engine';
import type { EngineSelection } from '../model/load-engine';
import type { ModelManifest } from '../model/manifest';
import type { TrainingSettings } from '../contract/training-params';
import type { TrainingProgress, TrainingReport } from '../training/run-training';
import type { CallKind } from './dynamic-batcher';

/**
 * Messages between the HTTP process and the model worker thread. Discriminated by `type`;
 * pixel and result buffers are transferred, not copied.
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

export interface ClassifyRequest {
  type: 'classify';
  id: number;
  model?: ModelRef;
  /** 8-bit RGB HWC at the model's input size (the model sees pixels / 255). */
  pixels: Uint8Array;
}

export interface AttackRequest {
  type: 'attack';
  id: number;
  model?: ModelRef;
  pixels: Uint8Array;
  /** The true class; null: the model's clean top-1. */
  label: number | null;
  target: TargetSpec;
  settings: AttackSettings;
  /** mode=minimal: search the smallest ε; null: one attack at settings.epsilon. */
  search: MinimalSearch | null;
}

/** Stops the running attack `id` before its next step. Handled at once, not queued. */
export interface CancelRequest {
  type: 'cancel';
  id: number;
}

/** Test-only (ADVPROBE_TEST_HOOKS): the worker thread exits at once, as if it had crashed. */
export interface CrashRequest {
  type: 'crash';
  id: number;
}

/** Shutdown: the thread exits once the engine call in flight has ended; nothing more is answered. */
export interface CloseRequest {
  type: 'close';
  id: number;
}

/** One raw engine call (evaluations drive the engine step by step through the queue). */
export interface LogitsRequest {
  type: 'logits';
  id: number;
  model?: ModelRef;
  batch: ImageBatch;
}

export interface LossGradientRequest {
  type: 'loss-gradient';
  id: number;
  model?: ModelRef;
  batch: ImageBatch;
  loss: LossCoefficients;
}

/** Adversarial training of `model` (absent: the loaded one) on the images; saves the result as `save.name`. */
export interface TrainRequest {
  type: 'train';
  id: number;
  model?: ModelRef;
  /** 8-bit RGB HWC images one after another, at the model's input size. */
  pixels: Uint8Array;
  images: { name: string; label: number }[];
  settings: TrainingSettings;
  save: { owner: string | null; job: string };
}

export interface TensorCountRequest {
  type: 'tensor-count';
  id: number;
}

export type WorkerRequest = ClassifyRequest | AttackRequest | LogitsRequest | LossGradientRequest | TrainRequest | CancelRequest | CrashRequest | CloseRequest | TensorCountRequest;

export type WorkerResponse =
  | { type: 'ready'; info: EngineInfo; skipped: EngineSelection['skipped']; loadMs: number }
  | { type: 'load-failed'; message: string }
  | { type: 'classified'; id: number; probabilities: Float32Array; computeMs: number }
  | { type: 'progress'; id: number; progress: AttackProgress }
  | { type: 'training-progress'; id: number; progress: TrainingProgress }
  | { type: 'trained'; id: number; report: TrainingReport; model: ModelManifest }
  | { type: 'attacked'; id: number; outcome: AttackOutcome; computeMs: number }
  | { type: 'logits'; id: number; logits: Float32Array }
  | { type: 'loss-gradient'; id: number; result: LossGradient }
  | { type: 'cancelled'; id: number }
  /** One engine call ran, merging this many images (for the batch-size metric). */
  | { type: 'batch'; kind: CallKind; images: number }
  | { type: 'tensor-count'; id: number; count: number }
  /** `field` is set when the request itself was invalid (a 400, not a failure); `code` and `status` for an AppError (a taken model name: 409). */
  | { type: 'error'; id: number; message: string; field?: string; code?: string; status?: number };

/** Buffers a response can hand over to the other thread without copying. */
export function transferables(message: WorkerResponse): ArrayBuffer[] {
  switch (message.type) {
    case 'classified':
      return [message.probabilities.buffer as ArrayBuffer];
    case 'attacked': {
      const o = message.outcome;
      return [o.clean, o.adversarial.x, o.adversarial.probabilities, o.quantized.pixels, o.quantized.probabilities].map((a) => a.buffer as ArrayBuffer);
    }
    case 'logits':
      return [message.logits.buffer as ArrayBuffer];
    case 'loss-gradient':
      return [message.result.logits, message.result.loss, message.result.gradient].map((a) => a.buffer as ArrayBuffer);
    default:
      return [];
  }
}
