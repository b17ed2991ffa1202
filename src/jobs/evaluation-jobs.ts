import { evaluationCsv } from '../evaluation/csv';
import { evaluateRobustness, type EvaluationImage, type EvaluationProgress, type EvaluationSettings } from '../evaluation/robustness';
import type { EvaluationResult } from '../http/evaluation-schemas';
import type { Log } from '../log';
import { observeModelJob, type Metrics } from '../metrics';
import type { JobTiming } from './job-queue';
import type { Job } from './job-store';
import { JobRunner } from './job-runner';
import type { ModelService } from './model-service';

export type EvaluationJob = Job<EvaluationResult, { csv: string }, EvaluationProgress>;

/**
 * Robustness evaluations of an uploaded set. The evaluation itself runs on this thread and
 * drives the model one call at a time through the queue (ModelService.remoteEngine), so
 * classifications and attacks from others interleave with its steps instead of waiting
 * for the whole set. Always asynchronous: follow the job, its events, or fetch the CSV.
 */
export class EvaluationJobs extends JobRunner<EvaluationResult, { csv: string }, EvaluationProgress> {
  constructor(
    private readonly model: ModelService,
    options: { ttlSeconds: number; maxJobs: number },
    log: Log,
    metrics: Metrics,
  ) {
    super('evaluation', options, log, metrics);
  }

  submit(images: EvaluationImage[], settings: EvaluationSettings, owner?: string): EvaluationJob {
    this.model.assertQueueRoom();
    const job = this.store.create(owner);
    job.start();
    void this.runJob(job, async () => {
      const started = performance.now();
      const calls = { count: 0, queueMs: 0, computeMs: 0 };
      const engine = this.model.remoteEngine({
        signal: job.controller.signal,
        onCall: (timing: JobTiming) => {
          calls.count++;
          calls.queueMs += timing.queueMs;
          calls.computeMs += timing.computeMs;
          observeModelJob(this.metrics, 'evaluation', timing);
        },
      });
      const evaluation = await evaluateRobustness(engine, images, settings, {
        onProgress: (progress) => job.report(progress),
        beforeStep: async () => job.controller.signal.throwIfAborted(),
      });
      const labels = this.model.labels;
      const { attack, epsilons, tolerance } = settings;
      const result: EvaluationResult = {
        id: job.id,
        status: 'succeeded',
        settings: { ...attack, epsilons, epsilons255: epsilons.map((e) => e * 255), tolerance },
        count: evaluation.count,
        cleanAccuracy: evaluation.cleanAccuracy,
        empiricalRisk: evaluation.empiricalRisk,
        epsilons: evaluation.epsilons.map((e) => ({ ...e, epsilon255: e.epsilon * 255 })),
        images: evaluation.images.map((r) => ({
          name: r.name,
          label: r.label,
          labelName: labels[r.label],
          clean: { ...r.clean, predictionLabel: labels[r.clean.prediction] },
          atEpsilon: r.atEpsilon.map((p) => ({ ...p, predictionLabel: labels[p.prediction] })),
          minimalEpsilon: r.minimalEpsilon,
          minimalEpsilon255: r.minimalEpsilon === null ? null : r.minimalEpsilon * 255,
          lowerBound: r.lowerBound,
        })),
        timingMs: { total: round(performance.now() - started), modelCalls: calls.count, queue: round(calls.queueMs), compute: round(calls.computeMs) },
      };
      return { result, data: { csv: evaluationCsv(evaluation, labels) } };
    });
    return job;
  }
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
