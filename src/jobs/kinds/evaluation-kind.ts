import type { EvaluationResult } from '../../contract/evaluation-schemas';
import type { EvaluationSpec } from '../../contract/job-specs';
import { evaluationCsv } from '../../evaluation/csv';
import { evaluateRobustness, settingsAt, type EvaluationImage, type EvaluationSettings } from '../../evaluation/robustness';
import { toUnit } from '../../images/unit-pixels';
import { observeModelJob } from '../../metrics';
import type { JobTiming } from '../../runtime/model-queue';
import { modelRefOf, pixelsOf, round, type JobKindRunner } from './job-kind';

/**
 * A robustness evaluation, run on the model worker like an attack: it drives the model
 * one call at a time through the worker's model queue, so classifications and attacks of
 * others interleave with its steps instead of waiting for the whole set.
 */
export const evaluationKind: JobKindRunner = {
  kind: 'evaluation',
  lane: 'batch',
  timeLimit: 'ADVPROBE_JOB_TIMEOUT_MS',
  async run(input, context, { model, metrics, models }) {
    const { settings: requested, images: described, width, height, model: name } = input.spec as EvaluationSpec;
    const ref = modelRefOf(models, name, context.owner);
    const settings = { ...requested, batchSize: model.maxBatch };
    const pixels = pixelsOf(input);
    const size = width * height * 3;
    const images: EvaluationImage[] = described.map(({ name, label }, i) => ({ name, label, x: toUnit(pixels.subarray(i * size, (i + 1) * size)) }));
    const started = performance.now();
    const calls = { count: 0, queueMs: 0, computeMs: 0 };
    const engine = model.remoteEngine({
      model: ref,
      signal: context.signal,
      onCall: (timing: JobTiming) => {
        calls.count++;
        calls.queueMs += timing.queueMs;
        calls.computeMs += timing.computeMs;
        observeModelJob(metrics, 'evaluation', timing);
      },
    });
    const evaluation = await evaluateRobustness(engine, images, settings, {
      onProgress: (progress) => context.report(progress),
      beforeStep: async () => context.signal.throwIfAborted(),
    });
    const labels = model.labels;
    const result: EvaluationResult = {
      id: context.id,
      status: 'succeeded',
      model: ref?.name ?? model.manifest.name,
      settings: reportedSettings(settings),
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
      timingMs: { total: round(performance.now() - started + context.queuedMs), modelCalls: calls.count, queue: round(calls.queueMs + context.queuedMs), compute: round(calls.computeMs) },
    };
    const csv = new TextEncoder().encode(evaluationCsv(evaluation, labels));
    return { result, artifacts: { csv } }; // its model calls were observed one by one above
  },
};

/** The settings an evaluation reports: each attack's own, then what PGD (the default attack) resolves to. */
function reportedSettings(settings: EvaluationSettings): EvaluationResult['settings'] {
  const { choices, epsilons, tolerance } = settings;
  const pgd = settingsAt(settings, 'pgd', 1, false);
  return {
    attacks: settings.attacks.map((name) => {
      const at = settingsAt(settings, name, 1, false);
      return { attack: name, steps: at.steps, loss: at.loss, randomStart: at.randomStart, queries: at.queries, targets: at.targets };
    }),
    norm: choices.norm,
    epsilons,
    epsilons255: epsilons.map((e) => e * 255),
    steps: choices.steps ?? pgd.steps,
    stepSize: choices.stepSize ?? null,
    optimizer: pgd.optimizer,
    loss: pgd.loss,
    randomStart: pgd.randomStart,
    restarts: choices.restarts,
    clamp: choices.clamp,
    seed: choices.seed,
    tolerance,
  };
}
