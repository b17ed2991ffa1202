import type { AttackSpec } from '../../contract/job-specs';
import { buildAttackResult } from './attack-result';
import { attackTask } from './attack-task';
import { modelRefOf, pixelsOf, type JobKindRunner } from './job-kind';

/** An attack (or a minimal-ε search): its result document, and the two images its PNG routes serve. */
export const attackKind: JobKindRunner = {
  kind: 'attack',
  lane: 'batch',
  timeLimit: 'ADVPROBE_JOB_TIMEOUT_MS',
  async run(input, context, { model, metrics, models }) {
    const { fields, request, width, height } = input.spec as AttackSpec;
    const pixels = pixelsOf(input);
    const ref = modelRefOf(models, fields.model, context.owner);
    const { label, target, settings, search } = request;
    const { value: outcome, timing: modelTiming } = await model.run(attackTask, { pixels, label, target, settings, search }, {
      model: ref,
      signal: context.signal,
      onProgress: (progress) => context.report(progress),
    });
    const timing = { ...modelTiming, queueMs: modelTiming.queueMs + context.queuedMs, totalMs: modelTiming.totalMs + context.queuedMs };
    const result = await buildAttackResult(context.id, fields, request, { pixels, width, height }, outcome, timing, model.labels);
    metrics.attackOutcomes.inc({ adversarial: String(outcome.adversarial.success), quantized_adversarial: String(outcome.quantized.success) });
    return { result, artifacts: { original: pixels, adversarial: outcome.quantized.pixels }, timing };
  },
};
