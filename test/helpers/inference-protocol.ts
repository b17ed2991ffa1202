/** What the Open Inference Protocol tests share. */

/** Values in one image tensor: [224, 224, 3]. */
export const SIZE = 224 * 224 * 3;

/** A request with the binary extension: the JSON header, then the inputs' raw little-endian bytes. */
export function binaryBody(json: object, data: Float32Array): { body: Buffer; headerLength: number } {
  const header = Buffer.from(JSON.stringify(json));
  const bytes = Buffer.alloc(data.length * 4);
  data.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return { body: Buffer.concat([header, bytes]), headerLength: header.length };
}
