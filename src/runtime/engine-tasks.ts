import type { ImageBatch, LossCoefficients, LossGradient } from '../model/engine';
import type { WorkerTask } from './worker-task';

/** One forward pass over a batch: what classification and the Open Inference Protocol need. */
export const logitsTask: WorkerTask<ImageBatch, Float32Array> = {
  name: 'logits',
  async run(batch, context) {
    const logits = await (await context.engine()).logits(batch);
    return { output: logits, transfer: [logits.buffer as ArrayBuffer] };
  },
};

/** One loss and input gradient over a batch: evaluations drive the engine step by step with it. */
export const lossGradientTask: WorkerTask<{ batch: ImageBatch; loss: LossCoefficients }, LossGradient> = {
  name: 'loss-gradient',
  async run({ batch, loss }, context) {
    const result = await (await context.engine()).lossGradient(batch, loss);
    return { output: result, transfer: [result.logits, result.loss, result.gradient].map((a) => a.buffer as ArrayBuffer) };
  },
};

/** Every worker runs these: they are the engine's own calls. */
export const ENGINE_TASKS = [logitsTask, lossGradientTask];
