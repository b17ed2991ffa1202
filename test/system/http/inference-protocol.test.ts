import { markAsUntransferable } from 'node:worker_threads';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { decodeToModelInput } from '../../../src/images/decode';
import { startApp } from '../../helpers/app';
import { binaryBody, SIZE } from '../../helpers/inference-protocol';
import { PIG, readTestFile, testDataPath } from '../../helpers/data';
import { readImagenetSamples } from '../../../scripts/imagenet-samples';

/**
 * The Open Inference Protocol (KServe V2 REST) as a client following the spec's examples
 * uses it, on the real model: JSON tensors, the binary tensor data extension, output selection.
 * Its errors: test/http/inference-protocol.test.ts.
 */

/** An image as the protocol's input: FP32 HWC in [0, 1], exactly the pixels /v1/classify sees. */
async function pixelsOf(image: Buffer): Promise<Float32Array> {
  const { pixels } = await decodeToModelInput(image, { width: 224, height: 224, resize: 'crop', maxInputPixels: 1e8 });
  return Float32Array.from(pixels, (p) => p / 255);
}

/** Splits a binary-extension response into its JSON header and the raw output bytes. */
function splitResponse(res: request.Response): { json: { outputs: { name: string; shape: number[]; parameters?: { binary_data_size: number }; data?: number[] }[] }; raw: Buffer } {
  const body = res.body as Buffer;
  const length = Number(res.headers['inference-header-content-length']);
  return { json: JSON.parse(body.subarray(0, length).toString('utf8')), raw: body.subarray(length) };
}

const binaryParser = (res: request.Response, done: (err: Error | null, body: Buffer) => void): void => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => done(null, Buffer.concat(chunks)));
};

describe('Open Inference Protocol /v2 (real ResNet50)', () => {
  let app: FastifyInstance;
  let batch: Float32Array;
  let classifyTop1: { classIndex: number; probability: number }[];
  const images = [readTestFile(...PIG), readImagenetSamples(testDataPath('imagenet-samples'))[0].data];

  beforeAll(async () => {
    app = await startApp();
    const both = await Promise.all(images.map(pixelsOf));
    batch = new Float32Array(2 * SIZE);
    both.forEach((p, i) => batch.set(p, i * SIZE));
    classifyTop1 = [];
    for (const image of images) classifyTop1.push((await request(app.server).post('/v1/classify').attach('image', image, 'x.jpg').expect(200)).body.predictions[0]);
  });
  afterAll(() => app?.close());

  it('answers server metadata, health and the model metadata the issue spells out', async () => {
    const server = await request(app.server).get('/v2').expect(200);
    expect(server.body).toEqual({ name: 'advprobe', version: expect.any(String), extensions: ['binary_tensor_data'] });
    expect((await request(app.server).get('/v2/health/live').expect(200)).body).toEqual({ live: true });
    expect((await request(app.server).get('/v2/health/ready').expect(200)).body).toEqual({ ready: true });
    expect((await request(app.server).get('/v2/models/resnet50/ready').expect(200)).body).toEqual({ name: 'resnet50', ready: true });
    const model = (await request(app.server).get('/v2/models/resnet50').expect(200)).body;
    expect(model.inputs).toEqual([{ name: 'pixels', datatype: 'FP32', shape: [-1, 224, 224, 3] }]);
    expect(model.outputs).toEqual([
      { name: 'logits', datatype: 'FP32', shape: [-1, 1000] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 1000] },
    ]);
    const missing = await request(app.server).get('/v2/models/vgg16').expect(404);
    expect(missing.body).toEqual({ error: expect.stringContaining('vgg16') });
  });

  it('infers a batch of two from JSON tensors, as one model call, matching /v1/classify', async () => {
    const before = await forwardCalls(app);
    const res = await request(app.server)
      .post('/v2/models/resnet50/infer')
      .send({ id: 'req-1', inputs: [{ name: 'pixels', shape: [2, 224, 224, 3], datatype: 'FP32', data: Array.from(batch) }] })
      .expect(200);
    expect(await forwardCalls(app)).toEqual({ calls: before.calls + 1, images: before.images + 2 });
    expect(res.body).toMatchObject({ model_name: 'resnet50', model_version: '1', id: 'req-1' });
    const [logits, probabilities] = res.body.outputs;
    expect([logits.name, probabilities.name]).toEqual(['logits', 'probabilities']);
    expect(probabilities.shape).toEqual([2, 1000]);
    expect(probabilities.data).toHaveLength(2000);
    for (const n of [0, 1]) {
      const row: number[] = probabilities.data.slice(n * 1000, (n + 1) * 1000);
      const top = row.indexOf(Math.max(...row));
      expect(top).toBe(classifyTop1[n].classIndex);
      expect(row[top]).toBeCloseTo(classifyTop1[n].probability, 5);
      expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 4);
      expect(logits.data.slice(n * 1000, (n + 1) * 1000).indexOf(Math.max(...logits.data.slice(n * 1000, (n + 1) * 1000)))).toBe(top);
    }
    expect(classifyTop1[0].classIndex).toBe(341); // the pig is a hog
  });

  it('takes inputs whose memory cannot be moved to the worker thread (Node 22+ refused them: DataCloneError)', async () => {
    // Node's shared Buffer pool is marked untransferable; uploads and Redis hand us views into such memory.
    const backing = new ArrayBuffer(16 + SIZE * 4);
    markAsUntransferable(backing);
    const pooled = new Float32Array(backing, 16, SIZE);
    pooled.set(batch.subarray(0, SIZE));
    const { logits } = await app.model.logitsOf(pooled, 1);
    expect(logits.indexOf(Math.max(...logits))).toBe(341);
    const bytes = new Uint8Array(backing, 16, SIZE);
    bytes.set((await decodeToModelInput(images[0], { width: 224, height: 224, resize: 'crop', maxInputPixels: 1e8 })).pixels);
    expect((await app.model.classify(bytes, 1)).predictions[0].classIndex).toBe(341);
    expect(bytes[0]).not.toBeUndefined(); // still the caller's
  });

  it('takes nested data and returns only the outputs asked for', async () => {
    const one = Array.from(batch.subarray(0, SIZE));
    const nested = [Array.from({ length: 224 }, (_, y) => Array.from({ length: 224 }, (_, x) => one.slice((y * 224 + x) * 3, (y * 224 + x) * 3 + 3)))];
    const res = await request(app.server)
      .post('/v2/models/resnet50/infer')
      .send({ inputs: [{ name: 'pixels', shape: [1, 224, 224, 3], datatype: 'FP32', data: nested }], outputs: [{ name: 'probabilities' }] })
      .expect(200);
    expect(res.body.outputs.map((o: { name: string }) => o.name)).toEqual(['probabilities']);
    expect(res.body.outputs[0].data.indexOf(Math.max(...res.body.outputs[0].data))).toBe(341);
  });

  it('speaks the binary tensor data extension both ways, as Triton clients do', async () => {
    const json = {
      inputs: [{ name: 'pixels', shape: [2, 224, 224, 3], datatype: 'FP32', parameters: { binary_data_size: batch.length * 4 } }],
      outputs: [{ name: 'logits', parameters: { binary_data: true } }, { name: 'probabilities', parameters: { binary_data: false } }],
    };
    const { body, headerLength } = binaryBody(json, batch);
    const res = await request(app.server)
      .post('/v2/models/resnet50/infer')
      .set('content-type', 'application/octet-stream')
      .set('inference-header-content-length', String(headerLength))
      .send(body)
      .buffer(true)
      .parse(binaryParser)
      .expect(200);
    expect(res.headers['content-type']).toMatch(/application\/octet-stream/);
    const { json: header, raw } = splitResponse(res);
    expect(header.outputs[0]).toEqual({ name: 'logits', datatype: 'FP32', shape: [2, 1000], parameters: { binary_data_size: 8000 } });
    expect(raw.length).toBe(8000);
    const logits = Array.from({ length: 2000 }, (_, i) => raw.readFloatLE(i * 4));
    const probabilities = header.outputs[1].data!;
    for (const n of [0, 1]) {
      const row = logits.slice(n * 1000, (n + 1) * 1000);
      const max = Math.max(...row);
      const sum = row.reduce((s, z) => s + Math.exp(z - max), 0);
      row.forEach((z, j) => expect(Math.exp(z - max) / sum).toBeCloseTo(probabilities[n * 1000 + j], 5));
    }
    // The same pixels as JSON give the same logits, to the float.
    const viaJson = await request(app.server)
      .post('/v2/models/resnet50/infer')
      .send({ inputs: [{ name: 'pixels', shape: [2, 224, 224, 3], datatype: 'FP32', data: Array.from(batch) }], outputs: [{ name: 'logits' }] })
      .expect(200);
    expect(viaJson.body.outputs[0].data).toEqual(logits);
  });
});

/** Forward model calls and the images in them, from /metrics (the dynamic batcher's histogram). */
async function forwardCalls(app: FastifyInstance): Promise<{ calls: number; images: number }> {
  const text = (await request(app.server).get('/metrics').expect(200)).text;
  const value = (name: string) => Number(new RegExp(`^advprobe_batch_size_${name}\\{kind="forward"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { calls: value('count'), images: value('sum') };
}
