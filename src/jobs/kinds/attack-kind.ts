import { runAttack, type AttackOutcome, type AttackProgress } from '../../attacks/attack';
import { AttackInputError, type AttackSettings, type MinimalSearch, type TargetSpec } from '../../attacks/types';
import { invalidParameter } from '../../errors';
import { toUnit } from '../../images/unit-pixels';
import type { WorkerTask } from '../../runtime/worker-task';
import type { AttackSpec } from '../../contract/job-specs';
import { buildAttackResult } from './attack-result';
import { modelRefOf, pixelsOf, type JobKindRunner } from './job-kind';

export interface AttackTaskInput {
  /** 8-bit RGB HWC at the model's input size (the model sees pixels / 255). */
  pixels: Uint8Array;
  /** The true class; null: the model's clean top-1. */
  label: number | null;
  target: TargetSpec;
  settings: AttackSettings;
  /** mode=minimal: search the smallest ε; null: one attack at settings.epsilon. */
  search: MinimalSearch | null;
}

/** An attack (or a minimal-ε search) on the model worker, step by step through its batcher. */
export const attackTask: WorkerTask<AttackTaskInput, AttackOutcome, AttackProgress> = {
  name: 'attack',
  async run({ pixels, label, target, settings, search }, context) {
    const engine = await context.engine();
    const { inputHeight: h, inputWidth: w } = engine.info;
    if (pixels.length !== h * w * 3) throw new Error(`expected ${h}×${w}×3 pixels, got ${pixels.length} values`);
    try {
      const hooks = { beforeStep: context.checkpoint, onProgress: context.progress };
      const outcome = await runAttack(engine, { x: toUnit(pixels), label, target }, settings, hooks, search);
      const { clean, adversarial, quantized } = outcome;
      return { output: outcome, transfer: [clean, adversarial.x, adversarial.probabilities, quantized.pixels, quantized.probabilities].map((a) => a.buffer as ArrayBuffer) };
    } catch (err) {
      // Only the model can show some requests invalid (a target that is the true label): a 400.
      if (err instanceof AttackInputError) throw invalidParameter(err.message);
      throw err;
    }
  },
};

/** An attack (or a minimal-ε search): its result document, and the two images its PNG routes serve. */
export const attackKind: JobKindRunner = {
  kind: 'attack',
  lane: 'batch',
  timeLimit: 'ADVPROBE_JOB_TIMEOUT_MS',
  tasks: [attackTask],
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
