import { readFileSync } from 'node:fs';
import path from 'node:path';

/** One layer of a Keras functional model as the TensorFlow.js converter writes it. */
export interface KerasLayerConfig {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** [[[inboundLayerName, nodeIndex, tensorIndex, kwargs], ...]] */
  inbound_nodes: [string, number, number, unknown][][];
}

/** A weight as plain data, so every engine (TensorFlow.js, ONNX Runtime) can read it. */
export interface WeightArray {
  shape: number[];
  data: Float32Array;
}

export interface LayersModelFiles {
  layers: KerasLayerConfig[];
  outputLayer: string;
  weights: Record<string, WeightArray>;
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface ModelJson {
  format: string;
  modelTopology: {
    model_config: { class_name: string; config: { layers: KerasLayerConfig[]; output_layers: [string, number, number][] } };
  };
  weightsManifest: { paths: string[]; weights: WeightEntry[] }[];
}

/**
 * Reads a TensorFlow.js layers model (model.json and its weight shards) from disk into
 * plain Float32Arrays; no tensor library is involved.
 */
export function readLayersModel(modelJsonPath: string): LayersModelFiles {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as ModelJson;
  if (json.format !== 'layers-model' || json.modelTopology.model_config.class_name !== 'Model') {
    throw new Error(`${modelJsonPath} is not a functional TensorFlow.js layers model`);
  }
  const dir = path.dirname(modelJsonPath);
  const weights: Record<string, WeightArray> = {};
  for (const group of json.weightsManifest) {
    const buffer = Buffer.concat(group.paths.map((p) => readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const entry of group.weights) {
      if (entry.dtype !== 'float32' || entry.quantization) {
        throw new Error(`${modelJsonPath}: weight ${entry.name} is ${entry.dtype}${entry.quantization ? ' (quantised)' : ''}; only float32 is supported`);
      }
      const size = entry.shape.reduce((a, b) => a * b, 1);
      // Copy out of the shard buffer: its offsets need not be 4-byte aligned.
      const data = new Float32Array(size);
      Buffer.from(data.buffer).set(buffer.subarray(offset, offset + size * 4));
      weights[entry.name] = { shape: entry.shape, data };
      offset += size * 4;
    }
  }
  const { layers, output_layers: outputs } = json.modelTopology.model_config.config;
  if (outputs.length !== 1) throw new Error(`${modelJsonPath}: expected one output layer`);
  return { layers, outputLayer: outputs[0][0], weights };
}
