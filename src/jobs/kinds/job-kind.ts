import type { JobInput, JobKind } from '../job-record';
import type { ModelService } from '../../runtime/model-service';
import type { JobTiming, Lane } from '../../runtime/model-queue';
import type { Metrics } from '../../metrics';
import type { ModelStore } from '../../model/model-store';
import type { ModelRef } from '../../runtime/protocol';
import type { SomeWorkerTask } from '../../runtime/worker-task';
import type { TimeLimitSetting } from '../time-limit';

/** What a running job may do besides computing: stop when told, report progress. */
export interface JobContext {
  id: string;
  /** Aborts on cancel, on the job's time limit and at shutdown; its reason is the AppError to end with. */
  signal: AbortSignal;
  /** Milliseconds the job waited in the queue before it started. */
  queuedMs: number;
  /** Who submitted it (an API-key digest; null with keys off): the models it may use. */
  owner: string | null;
  report(progress: unknown): void;
}

export interface KindDeps {
  model: ModelService;
  metrics: Metrics;
  models: ModelStore;
}

export interface KindOutput {
  result: unknown;
  /** Binary results kept with the job for its routes (PNG pixels, CSV). */
  artifacts?: Record<string, Uint8Array>;
  /** Time of the job's one model call (queue wait and compute), for the metrics; absent for a job of many calls. */
  timing?: JobTiming;
}

/**
 * One kind of job, declared once: its lane, its time limit, the tasks it runs inside the
 * model worker, and `run` (parse its input, run it on the model with progress and cancel,
 * return its result and images). The queue, the executor and the worker threads loop over
 * the registered kinds (index.ts); the store and the event stream never look inside.
 */
export interface JobKindRunner {
  kind: JobKind;
  /** Short jobs run in the interactive lane, so long ones holding every slot never keep them waiting. */
  lane: Lane;
  /** The setting its time limit comes from, queue wait included. */
  timeLimit: TimeLimitSetting;
  /** What it runs inside the model worker (ModelService.run), if more than engine calls. */
  tasks?: readonly SomeWorkerTask[];
  run(input: JobInput, context: JobContext, deps: KindDeps): Promise<KindOutput>;
}

export function pixelsOf(input: JobInput): Uint8Array {
  const pixels = input.blobs.pixels;
  if (!pixels) throw new Error('the job has no pixels');
  return pixels;
}

export const round = (ms: number): number => Math.round(ms * 10) / 10;

/**
 * The model a job names, as the worker loads it: undefined for the base model (the one the
 * workers hold), else the trained model `owner` may use (404 model_not_found otherwise; it
 * may have been deleted since the job was accepted).
 */
export function modelRefOf(models: ModelStore, name: string | null | undefined, owner: string | null): ModelRef | undefined {
  if (name === null || name === undefined) return undefined;
  const entry = models.find(name, owner);
  if (entry.base) return undefined;
  return { name: entry.manifest.name, modelsDir: entry.modelsDir, version: entry.manifest.source.type === 'training' ? entry.manifest.source.job : 'base' };
}
