import type { InferSpec } from '../../contract/job-specs';
import { softmax } from '../../model/predictions';
import { reportedTiming } from '../../runtime/model-queue';
import { pixelsOf, type JobKindRunner } from './job-kind';

/** What an infer job returns: per image, its logits and probabilities (rows of the model's classes). */
export interface InferResult {
  logits: number[];
  probabilities: number[];
  classes: number;
  timingMs: ReturnType<typeof reportedTiming>;
}

/** Open Inference Protocol infer: one forward pass over the whole batch. */
export const inferKind: JobKindRunner = {
  kind: 'infer',
  lane: 'interactive',
  timeLimit: 'ADVPROBE_JOB_TIMEOUT_MS',
  async run(input, context, { model }) {
    const { count } = input.spec as InferSpec;
    const bytes = pixelsOf(input);
    // The blob is the request's little-endian FP32 bytes; copied so the view is aligned.
    const data = new Float32Array(bytes.slice().buffer);
    const { logits, timingMs } = await model.logitsOf(data, count);
    const classes = logits.length / count;
    const probabilities = new Float32Array(logits.length);
    for (let n = 0; n < count; n++) probabilities.set(softmax(logits.subarray(n * classes, (n + 1) * classes)), n * classes);
    const timing = { ...timingMs, queueMs: timingMs.queueMs + context.queuedMs, totalMs: timingMs.totalMs + context.queuedMs };
    const result: InferResult = { logits: Array.from(logits), probabilities: Array.from(probabilities), classes, timingMs: reportedTiming(timing) };
    return { result, timing };
  },
};
