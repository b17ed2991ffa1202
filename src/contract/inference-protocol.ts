import { appError, invalidParameter } from '../errors';
import { LIFTED_KEY, liftNumberArrays } from './json-tensor';

/**
 * The Open Inference Protocol (KServe V2, REST) as advprobe speaks it: the model's one
 * input `pixels` (FP32, [N, H, W, 3], RGB in [0, 1]) and its outputs `logits` and
 * `probabilities` (FP32, [N, classes]); JSON tensors, and the binary tensor data extension
 * (a JSON header of `Inference-Header-Content-Length` bytes, then raw little-endian data).
 * No HTTP here: the route hands in the body and gets back what to send.
 */

export const INPUT_NAME = 'pixels';
export const OUTPUT_NAMES = ['logits', 'probabilities'] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

export interface ModelShape {
  height: number;
  width: number;
  classes: number;
  /** Most images in one infer request (ADVPROBE_MAX_BATCH): they go to the model as one batch. */
  maxBatch: number;
}

export interface InferRequest {
  id?: string;
  count: number;
  /** The images, HWC one after another, in [0, 1]. */
  pixels: Float32Array;
  outputs: { name: OutputName; binary: boolean }[];
}

interface TensorMetadata {
  name: string;
  datatype: 'FP32';
  shape: number[];
}

export function modelMetadata(name: string, platform: string, shape: ModelShape): { name: string; versions: string[]; platform: string; inputs: TensorMetadata[]; outputs: TensorMetadata[] } {
  return {
    name,
    versions: ['1'],
    platform,
    inputs: [{ name: INPUT_NAME, datatype: 'FP32', shape: [-1, shape.height, shape.width, 3] }],
    outputs: OUTPUT_NAMES.map((output) => ({ name: output, datatype: 'FP32', shape: [-1, shape.classes] })),
  };
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads an infer request body. `headerLength` is the Inference-Header-Content-Length
 * header: absent, the whole body is JSON; present, the first that many bytes are and the
 * rest is the binary data of the inputs that declare `parameters.binary_data_size`.
 */
export function parseInferRequest(body: Buffer, headerLength: string | undefined, shape: ModelShape): InferRequest {
  let jsonBytes: Buffer = body;
  let binary: Buffer = Buffer.alloc(0);
  if (headerLength !== undefined) {
    const length = /^\d+$/.test(headerLength) ? Number(headerLength) : NaN;
    if (!(length <= body.length)) throw appError('invalid_header', { max: body.length, got: JSON.stringify(headerLength) });
    jsonBytes = body.subarray(0, length);
    binary = body.subarray(length);
  }
  // The tensor's numbers go straight into a Float32Array (json-tensor.ts); the rest is small.
  const lifted = liftNumberArrays(jsonBytes, 'data', shape.maxBatch * shape.height * shape.width * 3);
  let request: unknown;
  try {
    request = JSON.parse(lifted.text);
  } catch (err) {
    throw appError('invalid_json', { problem: `is not JSON: ${(err as Error).message}` });
  }
  if (!isObject(request)) throw appError('invalid_json', { problem: 'must be a JSON object' });
  if (request.id !== undefined && typeof request.id !== 'string') throw invalidParameter('id must be a string');
  const inputs = request.inputs;
  if (!Array.isArray(inputs) || inputs.length !== 1) throw invalidParameter(`inputs must hold exactly one tensor, '${INPUT_NAME}'`);
  const { count, pixels } = readInput(inputs[0], binary, shape, lifted.arrays);
  return { ...(request.id === undefined ? {} : { id: request.id }), count, pixels, outputs: readOutputs(request) };
}

function readInput(input: unknown, binary: Buffer, shape: ModelShape, lifted: Float32Array[]): { count: number; pixels: Float32Array } {
  if (!isObject(input)) throw invalidParameter('inputs[0] must be an object');
  if (input.name !== INPUT_NAME) throw invalidParameter(`unknown input ${JSON.stringify(input.name)}; the model's input is '${INPUT_NAME}'`);
  if (input.datatype !== 'FP32') throw invalidParameter(`${INPUT_NAME}: datatype must be FP32 (got ${JSON.stringify(input.datatype)})`);
  const dims = input.shape;
  const expected = `[N, ${shape.height}, ${shape.width}, 3]`;
  if (!Array.isArray(dims) || dims.length !== 4 || !dims.every((d) => Number.isInteger(d)) || dims[1] !== shape.height || dims[2] !== shape.width || dims[3] !== 3) {
    throw invalidParameter(`${INPUT_NAME}: shape must be ${expected} (got ${JSON.stringify(dims)})`);
  }
  const count = dims[0] as number;
  if (count < 1 || count > shape.maxBatch) throw invalidParameter(`${INPUT_NAME}: N must be between 1 and ${shape.maxBatch} (ADVPROBE_MAX_BATCH), got ${count}`);
  const size = count * shape.height * shape.width * 3;
  const parameters = isObject(input.parameters) ? input.parameters : {};
  const binaryBytes = parameters.binary_data_size === undefined ? 0 : Number(parameters.binary_data_size);
  if (parameters.binary_data_size !== undefined && binaryBytes !== size * 4) {
    throw invalidParameter(`${INPUT_NAME}: binary_data_size must be ${size * 4} bytes for shape ${JSON.stringify(dims)} (got ${JSON.stringify(parameters.binary_data_size)})`);
  }
  // The binary part of the body is exactly what the input declares (nothing, for JSON data).
  if (binary.length !== binaryBytes) throw invalidParameter(`the body has ${binary.length} bytes of binary data but the inputs declare ${binaryBytes}`);
  let pixels: Float32Array;
  if (binaryBytes > 0) {
    pixels = new Float32Array(size);
    // Little-endian on the wire whatever the host (the extension's rule).
    for (let i = 0; i < size; i++) pixels[i] = binary.readFloatLE(i * 4);
  } else {
    const data = isObject(input.data) && typeof input.data[LIFTED_KEY] === 'number' ? lifted[input.data[LIFTED_KEY]] : input.data;
    if (!Array.isArray(data) && !(data instanceof Float32Array)) throw invalidParameter(`${INPUT_NAME}: data must be an array of numbers (or use the binary extension)`);
    // Row-major, flat or nested as the shape: both are the protocol's.
    const flat = data instanceof Float32Array ? data : (data as unknown[]).flat(3);
    if (flat.length !== size) throw invalidParameter(`${INPUT_NAME}: data holds ${flat.length} values; shape ${JSON.stringify(dims)} needs ${size}`);
    pixels = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      if (typeof flat[i] !== 'number') throw invalidParameter(`${INPUT_NAME}: data[${i}] is not a number`);
      pixels[i] = flat[i] as number;
    }
  }
  for (let i = 0; i < size; i++) {
    if (!(pixels[i] >= 0 && pixels[i] <= 1)) throw invalidParameter(`${INPUT_NAME}: every value must be in [0, 1] (value ${i} is ${pixels[i]})`);
  }
  return { count, pixels };
}

function readOutputs(request: Json): InferRequest['outputs'] {
  const parameters = isObject(request.parameters) ? request.parameters : {};
  const allBinary = parameters.binary_data_output === true;
  if (request.outputs === undefined) return OUTPUT_NAMES.map((name) => ({ name, binary: allBinary }));
  if (!Array.isArray(request.outputs) || request.outputs.length === 0) throw invalidParameter('outputs must be a non-empty array');
  return request.outputs.map((output: unknown) => {
    const name = isObject(output) ? output.name : undefined;
    if (!(OUTPUT_NAMES as readonly unknown[]).includes(name)) throw invalidParameter(`unknown output ${JSON.stringify(name)}; the outputs are ${OUTPUT_NAMES.join(', ')}`);
    const own = isObject(output) && isObject(output.parameters) ? output.parameters.binary_data : undefined;
    return { name: name as OutputName, binary: own === undefined ? allBinary : own === true };
  });
}

export interface InferResponseJson {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: { name: string; datatype: string; shape: number[]; data?: number[]; parameters?: { binary_data_size: number } }[];
}

/** The response: JSON alone, or (when an output asked for binary) a JSON header and the raw data after it. */
export function inferResponse(
  modelName: string,
  request: InferRequest,
  values: Record<OutputName, readonly number[]>,
  classes: number,
): { json: InferResponseJson; binary: Buffer | null } {
  const chunks: Buffer[] = [];
  const outputs = request.outputs.map(({ name, binary }): InferResponseJson['outputs'][number] => {
    const tensor = { name, datatype: 'FP32', shape: [request.count, classes] };
    if (!binary) return { ...tensor, data: [...values[name]] };
    const bytes = Buffer.alloc(values[name].length * 4);
    values[name].forEach((v, i) => bytes.writeFloatLE(v, i * 4));
    chunks.push(bytes);
    return { ...tensor, parameters: { binary_data_size: bytes.length } };
  });
  const json = { model_name: modelName, model_version: '1', ...(request.id === undefined ? {} : { id: request.id }), outputs };
  return { json, binary: chunks.length ? Buffer.concat(chunks) : null };
}
