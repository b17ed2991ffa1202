/**
 * The one interface between the model and everything above it (jobs, attacks). Nothing
 * above this file imports a tensor library: data crosses as Float32Arrays, so a second
 * engine (ONNX Runtime, say) can sit beside the TensorFlow.js one.
 */

/** Backends an engine can run on, in the order `auto` tries them (`cpu`, pure JS, only on request). */
export const BACKENDS = ['tfjs-node-gpu', 'onnxruntime', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendChoice = BackendName | 'auto';

export interface EngineInfo {
  model: string;
  backend: BackendName;
  inputHeight: number;
  inputWidth: number;
  numClasses: number;
}

/** A batch of RGB images in [0, 1], NHWC, `count` images of the engine's input size. */
export interface ImageBatch {
  data: Float32Array;
  count: number;
}

/**
 * A loss per sample, as coefficients over the logits z (each [count × numClasses]):
 *   L = Σ_k a_k · log softmax(z)_k + Σ_k b_k · z_k
 * Cross-entropy of label y is a = −e_y; the targeted difference CE(y) − CE(t) is
 * a = −e_y + e_t; a logit margin is b = e_t − e_j. One form serves every attack.
 */
export interface LossCoefficients {
  a: Float32Array;
  b: Float32Array;
}

export interface LossGradient {
  logits: Float32Array; // [count × numClasses]
  loss: Float32Array; // [count]
  gradient: Float32Array; // dL/dx, same layout as the batch
}

export interface ClassifierEngine {
  readonly info: EngineInfo;
  logits(batch: ImageBatch): Promise<Float32Array>;
  lossGradient(batch: ImageBatch, loss: LossCoefficients): Promise<LossGradient>;
  /** Tensors the engine holds now (its weights included); constant between calls. */
  tensorCount(): number;
  dispose(): void;
}

/** One forward and one gradient pass, so the first request does not pay for set-up. */
export async function warmUp(engine: ClassifierEngine): Promise<void> {
  const { inputHeight, inputWidth, numClasses } = engine.info;
  const batch = { data: new Float32Array(inputHeight * inputWidth * 3).fill(0.5), count: 1 };
  await engine.logits(batch);
  const a = new Float32Array(numClasses);
  a[0] = -1;
  await engine.lossGradient(batch, { a, b: new Float32Array(numClasses) });
}
