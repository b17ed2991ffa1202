import { AppError } from '../errors';
import type { AttackFields, AttackRequestSpec } from '../http/attack-params';
import type { AttackResult } from '../http/attack-schemas';
import type { ModelImage } from '../images/decode';
import type { Log } from '../log';
import { observeModelJob, type Metrics } from '../metrics';
import { buildAttackResult } from './attack-result';
import { Job, JobStore, type JobError } from './job-store';
import type { ModelService } from './model-service';

/** What a finished attack keeps for its PNG routes: the exact model input and the 8-bit adversarial image. */
export interface AttackImagesData {
  original: Uint8Array;
  adversarial: Uint8Array;
  width: number;
  height: number;
}

export type AttackJob = Job<AttackResult, AttackImagesData>;

/**
 * The life of attack jobs: submitted (refused at once when the queue is full), run through
 * the model queue with progress, finished with a result or an error, cancellable at any
 * time, kept in the store for GET until they expire.
 */
export class AttackJobs {
  readonly store: JobStore<AttackResult, AttackImagesData>;

  constructor(
    private readonly model: ModelService,
    options: { ttlSeconds: number; maxJobs: number },
    private readonly log: Log,
    private readonly metrics: Metrics,
  ) {
    this.store = new JobStore(options);
  }

  submit(image: ModelImage, fields: AttackFields, spec: AttackRequestSpec, owner?: string): AttackJob {
    this.model.assertQueueRoom();
    const job = this.store.create(owner);
    void this.execute(job, image, fields, spec);
    return job;
  }

  /** Cancels a queued or running job (a running attack stops within one step). */
  async cancel(id: string, owner?: string): Promise<AttackJob> {
    const job = this.store.get(id, owner);
    if (job.finished) throw new AppError(409, 'job_finished', `job ${id} has already ${job.status}`);
    job.controller.abort(new AppError(409, 'cancelled', 'the job was cancelled'));
    await job.done();
    return job;
  }

  /**
   * Shutdown, step one: lets active jobs finish for up to `graceMs`, then fails the rest
   * explicitly (503 shutting_down; a running attack stops within one step).
   */
  async drain(graceMs: number): Promise<void> {
    const active = () => [...this.store.values()].filter((job) => !job.finished);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(active().map((job) => job.done())), grace]);
    clearTimeout(timer);
    const left = active();
    if (left.length) this.log.warn({ jobs: left.length }, 'shutdown grace over: failing the jobs still active');
    for (const job of left) job.controller.abort(new AppError(503, 'shutting_down', 'the service is shutting down'));
    await Promise.all(left.map((job) => job.done()));
  }

  close(): void {
    for (const job of this.store.values()) {
      if (!job.finished) job.controller.abort(new AppError(503, 'shutting_down', 'the service is shutting down'));
    }
    this.store.close();
  }

  private async execute(job: AttackJob, image: ModelImage, fields: AttackFields, spec: AttackRequestSpec): Promise<void> {
    try {
      const { outcome, timing } = await this.model.attack(image.pixels, spec, {
        signal: job.controller.signal,
        onStart: () => job.start(),
        onProgress: (progress) => job.report(progress),
      });
      const result = await buildAttackResult(job.id, fields, spec, image, outcome, timing, this.model.labels);
      job.succeed(result, { original: image.pixels, adversarial: outcome.quantized.pixels, width: image.width, height: image.height });
      observeModelJob(this.metrics, 'attack', timing);
      this.metrics.attackOutcomes.inc({ adversarial: String(outcome.adversarial.success), quantized_adversarial: String(outcome.quantized.success) });
    } catch (err) {
      const error = toJobError(err);
      if (error.statusCode >= 500) this.log.warn({ job: job.id, code: error.code }, error.message);
      job.fail(error, error.code === 'cancelled' ? 'cancelled' : 'failed');
    }
    this.metrics.jobs.inc({ type: 'attack', status: job.status });
  }
}

function toJobError(err: unknown): JobError {
  if (err instanceof AppError) return { code: err.code, message: err.message, statusCode: err.statusCode };
  return { code: 'internal_error', message: err instanceof Error ? err.message : String(err), statusCode: 500 };
}
