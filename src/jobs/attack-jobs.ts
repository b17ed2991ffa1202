import type { AttackProgress } from '../attacks/attack';
import type { AttackFields, AttackRequestSpec } from '../http/attack-params';
import type { AttackResult } from '../http/attack-schemas';
import type { ModelImage } from '../images/decode';
import type { Log } from '../log';
import { observeModelJob, type Metrics } from '../metrics';
import { buildAttackResult } from './attack-result';
import type { Job } from './job-store';
import { JobRunner } from './job-runner';
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
export class AttackJobs extends JobRunner<AttackResult, AttackImagesData, AttackProgress> {
  constructor(
    private readonly model: ModelService,
    options: { ttlSeconds: number; maxJobs: number },
    log: Log,
    metrics: Metrics,
  ) {
    super('attack', options, log, metrics);
  }

  submit(image: ModelImage, fields: AttackFields, spec: AttackRequestSpec, owner?: string): AttackJob {
    this.model.assertQueueRoom();
    const job = this.store.create(owner);
    void this.runJob(job, async () => {
      const { outcome, timing } = await this.model.attack(image.pixels, spec, {
        signal: job.controller.signal,
        onStart: () => job.start(),
        onProgress: (progress) => job.report(progress),
      });
      const result = await buildAttackResult(job.id, fields, spec, image, outcome, timing, this.model.labels);
      observeModelJob(this.metrics, 'attack', timing);
      this.metrics.attackOutcomes.inc({ adversarial: String(outcome.adversarial.success), quantized_adversarial: String(outcome.quantized.success) });
      return { result, data: { original: image.pixels, adversarial: outcome.quantized.pixels, width: image.width, height: image.height } };
    });
    return job;
  }
}
