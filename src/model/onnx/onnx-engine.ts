import { availableParallelism } from 'node:os';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { warmUp, type ClassifierEngine, type EngineInfo, type ImageBatch, type LossCoefficients, type LossGradient } from '../engine';
import { lowerKerasModel, type LayerGraph } from '../layer-graph';
import { modelFolder, type ModelManifest } from '../manifest';
import { readLayersModel } from '../weights';
import { parametersOf, trainableOps, withParameters, type TrainableEngine, type TrainableSelection } from '../trainable';
import { buildOnnxModels, buildTrainingModels, gradientOutput, IO } from './onnx-network';

export interface OnnxEngineOptions {
  modelsDir: string;
  manifest: ModelManifest;
  /** Intra-op threads; default: every core. */
  threads?: number;
}

/**
 * The model on ONNX Runtime's CPU execution provider: the Keras graph compiled to ONNX at
 * load (a forward model, and a gradient model with the backward pass written out), run by
 * onnxruntime-node with one thread per core.
 */
export async function loadOnnxEngine(options: OnnxEngineOptions): Promise<ClassifierEngine> {
  const { manifest } = options;
  const files = readLayersModel(path.join(modelFolder(options.modelsDir, manifest), manifest.modelFile));
  const graph = lowerKerasModel(files, manifest.logitsLayer);
  const info = { model: manifest.name, inputHeight: manifest.input.height, inputWidth: manifest.input.width, numClasses: manifest.numClasses };
  const engine = await createOnnxEngine(graph, manifest.preprocessing, info, options.threads);
  await warmUp(engine);
  return engine;
}

/** The engine's session options (the profiling script uses the same). */
export function onnxSessionOptions(threads: number): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Two sessions share the cores: a pool that spin-waits after its run would take them
    // from the other session's next run.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** An engine over any lowered graph (tests use small random ones). */
export async function createOnnxEngine(
  graph: LayerGraph,
  preprocessing: ModelManifest['preprocessing'],
  info: Omit<EngineInfo, 'backend'>,
  threads = availableParallelism(),
): Promise<ClassifierEngine> {
  const ort = requireOrt();
  const models = buildOnnxModels(graph, preprocessing);
  const sessionOptions = onnxSessionOptions(threads);
  const forward = await ort.InferenceSession.create(models.forward, sessionOptions);
  const gradient = await ort.InferenceSession.create(models.gradient, sessionOptions);
  return sessionEngine(ort, info, { forward, gradient }, () => ({}));
}

/**
 * An engine whose `parameters` (the weights of the layers `selection` trains) are fed to
 * ONNX Runtime on every call, so an optimiser updating them in place changes the model: a
 * forward and an input-gradient model for the inner attack and the scores, and a model
 * for the weight gradient. The other layers' weights stay constants.
 */
export async function createOnnxTrainableEngine(
  graph: LayerGraph,
  preprocessing: ModelManifest['preprocessing'],
  info: Omit<EngineInfo, 'backend'>,
  selection: TrainableSelection,
  threads = availableParallelism(),
): Promise<TrainableEngine> {
  const ort = requireOrt();
  const parameters = parametersOf(trainableOps(graph, selection));
  const models = buildTrainingModels(graph, preprocessing, parameters);
  const sessionOptions = onnxSessionOptions(threads);
  const forward = await ort.InferenceSession.create(models.forward, sessionOptions);
  const gradient = await ort.InferenceSession.create(models.gradient, sessionOptions);
  const weightGradient = await ort.InferenceSession.create(models.weightGradient, sessionOptions);
  // The same Float32Arrays every call: ONNX Runtime reads their current values.
  const feeds = (): Record<string, Ort.Tensor> => Object.fromEntries(parameters.map((p) => [p.name, new ort.Tensor('float32', p.data, p.shape)]));
  const engine = sessionEngine(ort, info, { forward, gradient }, feeds);
  return {
    ...engine,
    parameters,
    async weightGradient(batch, { a, b }) {
      const shape = [batch.count, info.numClasses];
      const out = await weightGradient.run({ [IO.pixels]: pixelTensor(ort, info, batch), [IO.a]: new ort.Tensor('float32', a, shape), [IO.b]: new ort.Tensor('float32', b, shape), ...feeds() });
      return { logits: floats(out[IO.logits]), loss: floats(out[IO.loss]), gradients: parameters.map((p) => floats(out[gradientOutput(p)])) };
    },
    snapshot: () => createOnnxEngine(withParameters(graph, parameters), preprocessing, info, threads),
    dispose() {
      engine.dispose();
      void weightGradient.release();
    },
  };
}

function requireOrt(): typeof Ort {
  // Required here, not imported at the top: a host without the native library falls back
  // to another engine instead of failing to start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('onnxruntime-node') as typeof Ort;
}

function pixelTensor(ort: typeof Ort, { inputHeight: h, inputWidth: w }: Omit<EngineInfo, 'backend'>, batch: ImageBatch): Ort.Tensor {
  const expected = batch.count * h * w * 3;
  if (batch.data.length !== expected) throw new Error(`batch holds ${batch.data.length} values, expected ${expected}`);
  return new ort.Tensor('float32', batch.data, [batch.count, h, w, 3]);
}

function floats(t: Ort.Tensor | undefined): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) throw new Error('internal: ONNX Runtime returned no float32 output');
  return t.data;
}

/** A ClassifierEngine over a forward and a gradient session; `extra` feeds their other inputs (trained weights). */
function sessionEngine(
  ort: typeof Ort,
  info: Omit<EngineInfo, 'backend'>,
  { forward, gradient }: { forward: Ort.InferenceSession; gradient: Ort.InferenceSession },
  extra: () => Record<string, Ort.Tensor>,
): ClassifierEngine {
  return {
    info: { ...info, backend: 'onnxruntime' },

    async logits(batch) {
      const out = await forward.run({ [IO.pixels]: pixelTensor(ort, info, batch), ...extra() });
      return floats(out[IO.logits]);
    },

    async lossGradient(batch, { a, b }: LossCoefficients): Promise<LossGradient> {
      const shape = [batch.count, info.numClasses];
      const out = await gradient.run({ [IO.pixels]: pixelTensor(ort, info, batch), [IO.a]: new ort.Tensor('float32', a, shape), [IO.b]: new ort.Tensor('float32', b, shape), ...extra() });
      return { logits: floats(out[IO.logits]), loss: floats(out[IO.loss]), gradient: floats(out[IO.gradient]) };
    },

    // ONNX Runtime's tensors are garbage-collected JS objects; nothing is held between calls.
    tensorCount: () => 0,

    dispose() {
      void forward.release();
      void gradient.release();
    },
  };
}
