import type { Parameter } from '../model/trainable';

export interface SgdSettings {
  learningRate: number;
  momentum: number;
  /** L2 penalty on the kernels (not the biases, as is usual: they do not scale the function). */
  weightDecay: number;
}

/**
 * Stochastic gradient descent with momentum, PyTorch's form: v := μ·v + g + λ·θ, θ := θ − α·v.
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
        for (let i = 0; i < theta.length; i++) {
          v[i] = mu * v[i] + scale * g[i] + decay * theta[i];
          theta[i] -= lr * v[i];
        }
      });
    },
  };
}
