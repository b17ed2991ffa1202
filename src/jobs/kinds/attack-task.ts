import { runAttack, type AttackOutcome, type AttackProgress } from '../../attacks/attack';
import { AttackInputError, type AttackSettings, type MinimalSearch, type TargetSpec } from '../../attacks/types';
import { badRequest } from '../../errors';
import { toUnit } from '../../images/unit-pixels';
import type { WorkerTask } from '../../runtime/worker-task';

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
      if (err instanceof AttackInputError) throw badRequest('invalid_parameter', err.message);
      throw err;
    }
  },
};
