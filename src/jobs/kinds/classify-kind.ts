import type { ClassifySpec } from '../../contract/job-specs';
import { reportedTiming } from '../../runtime/model-queue';
import { modelRefOf, pixelsOf, type JobKindRunner } from './job-kind';

/** Classify: one forward pass; the result is the 200 body of POST /v1/classify. */
export const classifyKind: JobKindRunner = {
  kind: 'classify',
  lane: 'interactive',
  timeLimit: 'ADVPROBE_JOB_TIMEOUT_MS',
  async run(input, context, { model, models }) {
    const { topk, model: name } = input.spec as ClassifySpec;
    const ref = modelRefOf(models, name, context.owner);
    const { predictions, timingMs } = await model.classify(pixelsOf(input), topk, ref);
    const timing = { ...timingMs, queueMs: timingMs.queueMs + context.queuedMs, totalMs: timingMs.totalMs + context.queuedMs };
    return { result: { model: ref?.name ?? model.manifest.name, backend: model.backend, predictions, timingMs: reportedTiming(timing) }, timing };
  },
};
