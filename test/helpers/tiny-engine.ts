import type { ClassifierEngine, ImageBatch, LossCoefficients } from '../../src/model/engine';
import { seededRandom } from '../../src/attacks/random';

/**
 * A tiny exact stand-in for ResNet50 at its real shapes (224×224×3 in, 1000 logits out):
 * logits = W·(mean of each channel) + c, with seeded W and c. It answers in microseconds,
 * so HTTP tests whose point is validation, limits or errors need not load ResNet50.
 */
export function tinyResNetShapedEngine(seed = 1): ClassifierEngine {
  const classes = 1000;
  const [h, w] = [224, 224];
  const random = seededRandom(seed);
  const weights = Float32Array.from({ length: classes * 3 }, () => random.next() * 20 - 10);
  const bias = Float32Array.from({ length: classes }, () => random.next());
  const size = h * w * 3;
  const means = (x: Float32Array, n: number): number[] => {
    const sum = [0, 0, 0];
    for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) sum[c] += x[n * size + i * 3 + c];
    return sum.map((s) => s / (h * w));
  };
  const logitsOf = (x: Float32Array, n: number): Float32Array => {
    const m = means(x, n);
    return Float32Array.from({ length: classes }, (_, j) => bias[j] + m[0] * weights[j * 3] + m[1] * weights[j * 3 + 1] + m[2] * weights[j * 3 + 2]);
  };
  return {
    info: { model: 'tiny', backend: 'cpu', inputHeight: h, inputWidth: w, numClasses: classes },
    async logits(batch: ImageBatch) {
      const out = new Float32Array(batch.count * classes);
      for (let n = 0; n < batch.count; n++) out.set(logitsOf(batch.data, n), n * classes);
      return out;
    },
    async lossGradient(batch: ImageBatch, { a, b }: LossCoefficients) {
      const logits = new Float32Array(batch.count * classes);
      const loss = new Float32Array(batch.count);
      const gradient = new Float32Array(batch.count * size);
      for (let n = 0; n < batch.count; n++) {
        const z = logitsOf(batch.data, n);
        logits.set(z, n * classes);
        const max = z.reduce((m, v) => Math.max(m, v), -Infinity);
        const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
        let sumA = 0;
        for (let j = 0; j < classes; j++) sumA += a[n * classes + j];
        const dMean = [0, 0, 0];
        for (let j = 0; j < classes; j++) {
          loss[n] += a[n * classes + j] * (z[j] - lse) + b[n * classes + j] * z[j];
          const dz = a[n * classes + j] - sumA * Math.exp(z[j] - lse) + b[n * classes + j];
          for (let c = 0; c < 3; c++) dMean[c] += (dz * weights[j * 3 + c]) / (h * w);
        }
        for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) gradient[n * size + i * 3 + c] = dMean[c];
      }
      return { logits, loss, gradient };
    },
    tensorCount: () => 0,
    dispose: () => undefined,
  };
}

/**
 * An engine whose every call first waits for `open()`: model work that takes as long as the
 * test wants, so a queue fills or a job stays running deterministically (piscina's fixture
 * workers that block on purpose). `calls` counts the calls that reached it.
 */
export function gatedEngine(engine: ClassifierEngine = tinyResNetShapedEngine()): ClassifierEngine & { open(): void; calls: number } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const gated = {
    ...engine,
    calls: 0,
    open,
    async logits(batch: ImageBatch) {
      gated.calls++;
      await gate;
      return engine.logits(batch);
    },
    async lossGradient(batch: ImageBatch, loss: LossCoefficients) {
      gated.calls++;
      await gate;
      return engine.lossGradient(batch, loss);
    },
  };
  return gated;
}

/** An engine whose every call takes at least `ms` milliseconds (an attack step a job limit can catch). */
export function slowEngine(ms: number, engine: ClassifierEngine = tinyResNetShapedEngine()): ClassifierEngine {
  const pause = () => new Promise((resolve) => setTimeout(resolve, ms));
  return {
    ...engine,
    logits: async (batch) => (await pause(), engine.logits(batch)),
    lossGradient: async (batch, loss) => (await pause(), engine.lossGradient(batch, loss)),
  };
}
