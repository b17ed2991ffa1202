import type { EvaluationSettings } from '../evaluation/robustness';
import type { AttackFields, AttackRequestSpec } from './attack-params';
import type { TrainingSettings } from './training-params';

/**
 * What the API hands a model worker for each job kind, as JSON (the pixels travel beside it
 * as the job's `pixels` blob: 8-bit RGB HWC at the model's input size, images one after
 * another for an evaluation).
 */
export interface ClassifySpec {
  topk: number;
  /** A trained model's name; absent or null: the base model. */
  model?: string | null;
}

/**
 * An Open Inference Protocol request: `count` images as FP32 HWC in [0, 1], one after
 * another, in the job's `pixels` blob as little-endian bytes; one engine call for all.
 */
export interface InferSpec {
  count: number;
}

export interface AttackSpec {
  /** The model is `fields.model`. */
  fields: AttackFields;
  request: AttackRequestSpec;
  width: number;
  height: number;
}

export interface EvaluationSpec {
  /** The images per engine call are the worker's own (its ADVPROBE_MAX_BATCH). */
  settings: Omit<EvaluationSettings, 'batchSize'>;
  images: { name: string; label: number }[];
  width: number;
  height: number;
  model?: string | null;
}

export interface TrainingSpec {
  settings: TrainingSettings;
  images: { name: string; label: number }[];
  width: number;
  height: number;
}
