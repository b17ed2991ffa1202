import type { BackendChoice, BackendSelection } from '../model/backend';
import type { EngineInfo } from '../model/engine';

/**
 * Messages between the HTTP process and the model worker thread. Discriminated by `type`;
 * pixel and result buffers are transferred, not copied.
 */
export interface WorkerOptions {
  modelsDir: string;
  modelName: string;
  backend: BackendChoice;
}

export interface ClassifyRequest {
  type: 'classify';
  id: number;
  /** 8-bit RGB HWC at the model's input size (the model sees pixels / 255). */
  pixels: Uint8Array;
}

export interface TensorCountRequest {
  type: 'tensor-count';
  id: number;
}

export type WorkerRequest = ClassifyRequest | TensorCountRequest;

export type WorkerResponse =
  | { type: 'ready'; info: EngineInfo; skipped: BackendSelection['skipped']; loadMs: number }
  | { type: 'load-failed'; message: string }
  | { type: 'classified'; id: number; probabilities: Float32Array; computeMs: number }
  | { type: 'tensor-count'; id: number; count: number }
  | { type: 'error'; id: number; message: string };
