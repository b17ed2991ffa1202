import type { ClassifierEngine, ImageBatch, LossCoefficients } from '../../src/model/engine';

/**
 * A tiny exact classifier for fast attack tests: logits = W·x + c over a `size`-pixel image.
 * Its loss gradient is exact: dL/dz = a − (Σa)·softmax(z) + b, dL/dx = Wᵀ·dL/dz.
 */
export function linearEngine(weights: number[][], bias: number[]): ClassifierEngine & { calls: number } {
  const k = weights.length;
  const size = weights[0].length;
  const logitsOf = (x: Float32Array, offset: number): Float32Array => Float32Array.from(weights, (w, j) => w.reduce((s, wi, i) => s + wi * x[offset + i], bias[j]));
  const engine = {
    calls: 0,
    info: { model: 'linear', backend: 'cpu' as const, inputHeight: 1, inputWidth: size / 3, numClasses: k },
    async logits(batch: ImageBatch) {
      engine.calls++;
      const out = new Float32Array(batch.count * k);
      for (let n = 0; n < batch.count; n++) out.set(logitsOf(batch.data, n * size), n * k);
      return out;
    },
    async lossGradient(batch: ImageBatch, { a, b }: LossCoefficients) {
      engine.calls++;
      const logits = new Float32Array(batch.count * k);
      const loss = new Float32Array(batch.count);
      const gradient = new Float32Array(batch.count * size);
      for (let n = 0; n < batch.count; n++) {
        const z = logitsOf(batch.data, n * size);
        logits.set(z, n * k);
        const max = Math.max(...z);
        const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
        let sumA = 0;
        for (let j = 0; j < k; j++) {
          sumA += a[n * k + j];
          loss[n] += a[n * k + j] * (z[j] - lse) + b[n * k + j] * z[j];
        }
        for (let j = 0; j < k; j++) {
          const dz = a[n * k + j] - sumA * Math.exp(z[j] - lse) + b[n * k + j];
          for (let i = 0; i < size; i++) gradient[n * size + i] += dz * weights[j][i];
        }
      }
      return { logits, loss, gradient };
    },
    tensorCount: () => 0,
    dispose: () => undefined,
  };
  return engine;
}
