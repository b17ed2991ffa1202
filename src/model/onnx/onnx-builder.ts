import { onnx } from 'onnx-proto';

/**
 * A small helper over the generated ONNX protobuf classes: nodes, constants (initialisers)
 * and the final ModelProto bytes. Names are generated, so graph-building code reads as a
 * sequence of operations: `const y = g.op('Relu', [x])`.
 */
export type AttributeValue = number | number[] | string | { float: number } | { floats: number[] };

export const OPSET = 17;
const IR_VERSION = 8;

export interface GraphIO {
  name: string;
  /** Dimensions; a string is a symbolic one (the batch). */
  shape: (number | string)[];
}

export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  /** A fresh value name that says where it came from. */
  name(hint: string): string {
    this.counter += 1;
    return `${hint}_${this.counter}`;
  }

  /** Adds a node with one output and returns its name. */
  op(type: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, hint = type): string {
    return this.opMulti(type, inputs, 1, attributes, hint)[0];
  }

  /** Adds a node with `outputs` outputs and returns their names. */
  opMulti(type: string, inputs: string[], outputs: number, attributes: Record<string, AttributeValue> = {}, hint = type): string[] {
    const names = Array.from({ length: outputs }, (_, i) => this.name(`${hint}${i ? `_out${i}` : ''}`));
    this.nodes.push({
      opType: type,
      input: inputs,
      output: names,
      name: this.name(`${hint}_node`),
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return names;
  }

  /** A float32 constant (weights). */
  floats(hint: string, data: Float32Array, dims: number[]): string {
    const name = this.name(hint);
    this.initializers.push({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  /** A small int64 constant (shapes, axes, pads, indices), shared between uses. */
  ints(values: number[]): string {
    const key = `i64:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.name('ints');
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ name, dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], rawData: new Uint8Array(data.buffer) });
    this.constants.set(key, name);
    return name;
  }

  /** A float32 scalar constant, shared between uses. */
  scalar(value: number): string {
    const key = `f32:${value}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.floats('scalar', Float32Array.of(value), []);
    this.constants.set(key, name);
    return name;
  }

  /** A float32 constant of these dims with every entry `value`, shared between uses. */
  filled(value: number, dims: number[]): string {
    const key = `f32:${value}:${dims.join('x')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.floats('filled', new Float32Array(dims.reduce((n, d) => n * d, 1)).fill(value), dims);
    this.constants.set(key, name);
    return name;
  }

  /** Serialises the graph with these inputs and outputs (outputs renamed by Identity). */
  toBytes(graphName: string, inputs: GraphIO[], outputs: (GraphIO & { value: string })[]): Uint8Array {
    for (const out of outputs) this.nodes.push({ opType: 'Identity', input: [out.value], output: [out.name], name: this.name(`${out.name}_node`) });
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'advprobe',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: inputs.map(valueInfo),
        output: outputs.map(valueInfo),
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo({ name, shape }: GraphIO): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const type = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return { name, type: type.INT, i: value };
  if (typeof value === 'string') return { name, type: type.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: type.INTS, ints: value };
  if ('float' in value) return { name, type: type.FLOAT, f: value.float };
  return { name, type: type.FLOATS, floats: value.floats };
}
