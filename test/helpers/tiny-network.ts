import * as tf from '@tensorflow/tfjs';
import type { LayersModelFiles, KerasLayerConfig } from '../../src/model/weights';

/**
 * A small random network with every layer kind the ResNet50 uses (padding, strided and
 * 'same' convolutions of several kernel sizes, batch-norm, ReLU, max-pool, a residual
 * add, global average pool, dense softmax), exported exactly as a saved layers model, so
 * the compiler can be checked against TensorFlow.js's own layers and gradients.
 * `wide` gives its convolutions 16 and 32 channels instead of 6 and 8 (ONNX Runtime then
 * runs them, and our backward pass around them, in its blocked NCHWc layout, as in ResNet50),
 * a zero padding before its max-pool, as ResNet50's stem has, and a third branch into the
 * residual sum.
 */
export async function tinyNetwork(seed = 1, wide = false): Promise<{ model: tf.LayersModel; files: LayersModelFiles }> {
  const [stem, inner] = wide ? [16, 32] : [6, 8];
  const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.3, seed: seed * 100 + s });
  const input = tf.input({ shape: [17, 19, 3], name: 'input' });
  const pad = tf.layers.zeroPadding2d({ padding: [[2, 1], [1, 2]], name: 'pad' }).apply(input);
  const c1 = tf.layers.conv2d({ filters: stem, kernelSize: 5, strides: 2, padding: 'valid', name: 'c1', kernelInitializer: init(1), biasInitializer: init(2) }).apply(pad);
  const bn1 = tf.layers.batchNormalization({ name: 'bn1', gammaInitializer: init(3), betaInitializer: init(4), movingMeanInitializer: init(5), movingVarianceInitializer: 'ones' }).apply(c1);
  const r1 = tf.layers.activation({ activation: 'relu', name: 'r1' }).apply(bn1);
  // Wide: ResNet50's stem, a zero padding then a 'valid' pool (ties at 0 after the ReLU).
  const pool = wide
    ? tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'pool' }).apply(tf.layers.zeroPadding2d({ padding: 1, name: 'pool_pad' }).apply(r1))
    : tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool' }).apply(r1);
  const a = tf.layers.conv2d({ filters: inner, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu', name: 'a', kernelInitializer: init(6) }).apply(pool);
  const b = tf.layers.conv2d({ filters: inner, kernelSize: 1, strides: 2, padding: 'same', name: 'b', kernelInitializer: init(7) }).apply(a);
  const s = tf.layers.conv2d({ filters: inner, kernelSize: 2, strides: 2, padding: 'same', name: 's', kernelInitializer: init(8) }).apply(pool);
  // Wide only (the narrow one's weights stay as they were): a second 1×1 stride-2 branch off
  // `a`, as a ResNet stage's first block has, whose backward pass shares b's.
  const branches = wide ? [b, s, tf.layers.conv2d({ filters: inner, kernelSize: 1, strides: 2, padding: 'same', name: 't', kernelInitializer: init(11) }).apply(a)] : [b, s];
  const add = tf.layers.add({ name: 'add' }).apply(branches as tf.SymbolicTensor[]);
  const r2 = tf.layers.activation({ activation: 'relu', name: 'r2' }).apply(add);
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(r2);
  const out = tf.layers.dense({ units: 10, activation: 'softmax', name: 'logits', kernelInitializer: init(9), biasInitializer: init(10) }).apply(gap);
  const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });

  let files: LayersModelFiles | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const topology = artifacts.modelTopology as { config: { layers: KerasLayerConfig[]; output_layers: [string, number, number][] } };
      const decoded = tf.io.decodeWeights(artifacts.weightData as ArrayBuffer, artifacts.weightSpecs ?? []);
      const weights = Object.fromEntries(Object.entries(decoded).map(([name, t]) => [name, { shape: t.shape, data: t.dataSync() as Float32Array }]));
      tf.dispose(Object.values(decoded));
      files = { layers: topology.config.layers, outputLayer: topology.config.output_layers[0][0], weights };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!files) throw new Error('save handler was not called');
  return { model, files };
}
