import type { Parameter } from '../model/trainable';

export interface SgdSettings {
  learningRate: number;
  momentum: number;
  /** L2 penalty on the kernels (not the biases, as is usual: they do not scale the function). */
  weightDecay: number;
}

/**
 * Stochastic gradient descent with momentum, PyTorch's form: v := μ·v + g + λ·θ, θ := θ − α·v,
 * on the Keras weights with batch-norm frozen: the weights here are folded, so each output
 * channel's gradient is scaled by the parameter's channelStep (s², see trainable.ts) and the
 * decay by nothing, which is the same update expressed on the folded weights.
 * Updates the parameters in place (the engine reads them on its next call); plain loops,
 * 25 M weights take a few tens of milliseconds.
 */
export function createSgd(parameters: readonly Parameter[], settings: SgdSettings): { step(gradients: Float32Array[], scale: number): void } {
  const velocity = parameters.map((p) => new Float32Array(p.data.length));
  return {
    /** One update from gradients of Σ over the batch of L; `scale` (1/|B|) makes them the mean's. */
    step(gradients, scale) {
      const { learningRate: lr, momentum: mu } = settings;
      parameters.forEach((p, k) => {
        const g = gradients[k];
        const v = velocity[k];
        const theta = p.data;
        const decay = p.role === 'kernel' ? settings.weightDecay : 0;
        const step = p.channelStep;
        const channels = step?.length ?? 1;
        for (let i = 0; i < theta.length; i++) {
          const preconditioned = step ? step[i % channels] * g[i] : g[i];
          v[i] = mu * v[i] + scale * preconditioned + decay * theta[i];
          theta[i] -= lr * v[i];
        }
      });
    },
  };
}
