import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** One layer of a Keras functional model as the TensorFlow.js converter writes it. */
export interface KerasLayerConfig {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** [[[inboundLayerName, nodeIndex, tensorIndex, kwargs], ...]] */
  inbound_nodes: [string, number, number, unknown][][];
}

export interface LayersModelFiles {
  layers: KerasLayerConfig[];
  outputLayer: string;
  weights: tf.NamedTensorMap;
}

interface ModelJson {
  format: string;
  modelTopology: {
    model_config: { class_name: string; config: { layers: KerasLayerConfig[]; output_layers: [string, number, number][] } };
  };
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/**
 * Reads a TensorFlow.js layers model (model.json and its weight shards) from disk.
 * Works on every backend: no tfjs-node file IO handler is needed.
 */
export function readLayersModel(modelJsonPath: string): LayersModelFiles {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as ModelJson;
  if (json.format !== 'layers-model' || json.modelTopology.model_config.class_name !== 'Model') {
    throw new Error(`${modelJsonPath} is not a functional TensorFlow.js layers model`);
  }
  const dir = path.dirname(modelJsonPath);
  const weights: tf.NamedTensorMap = {};
  for (const group of json.weightsManifest) {
    const shards = group.paths.map((p) => readFileSync(path.join(dir, p)));
    const buffer = Buffer.concat(shards);
    const data = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
    Object.assign(weights, tf.io.decodeWeights(data, group.weights));
  }
  const { layers, output_layers: outputs } = json.modelTopology.model_config.config;
  if (outputs.length !== 1) throw new Error(`${modelJsonPath}: expected one output layer`);
  return { layers, outputLayer: outputs[0][0], weights };
}
