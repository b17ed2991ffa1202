import type { JobInput, JobKind } from '../job-record';
import type { ModelService } from '../../runtime/model-service';
import type { JobTiming } from '../../runtime/model-queue';
import type { Metrics } from '../../metrics';

/** What a running job may do besides computing: stop when told, report progress. */
export interface JobContext {
  id: string;
  /** Aborts on cancel, on the job's time limit and at shutdown; its reason is the AppError to end with. */
  signal: AbortSignal;
  /** Milliseconds the job waited in the queue before it started. */
  queuedMs: number;
  report(progress: unknown): void;
}

export interface KindDeps {
  model: ModelService;
  metrics: Metrics;
}

export interface KindOutput {
  result: unknown;
  /** Binary results kept with the job for its routes (PNG pixels, CSV). */
  artifacts?: Record<string, Uint8Array>;
  /** Time of the job's one model call (queue wait and compute), for the metrics; absent for a job of many calls. */
  timing?: JobTiming;
}

/**
 * One kind of job as a model worker runs it: parse its input, run it on the model with
 * progress and cancel, return its result and images. The queue, the store and the event
 * stream never look inside.
 */
export interface JobKindRunner {
  kind: JobKind;
  run(input: JobInput, context: JobContext, deps: KindDeps): Promise<KindOutput>;
}

export function pixelsOf(input: JobInput): Uint8Array {
  const pixels = input.blobs.pixels;
  if (!pixels) throw new Error('the job has no pixels');
  return pixels;
}

export const round = (ms: number): number => Math.round(ms * 10) / 10;
