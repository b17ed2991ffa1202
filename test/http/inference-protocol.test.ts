import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { startTinyApp } from '../helpers/app';
import { binaryBody, SIZE } from '../helpers/inference-protocol';

// The Open Inference Protocol's errors; the protocol on the real model: test/system/http/inference-protocol.test.ts.
describe('Open Inference Protocol errors (tiny engine): {"error": "..."} with 400/401/404/413', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startTinyApp({ ADVPROBE_MAX_BATCH: 2, ADVPROBE_MAX_UPLOAD_BYTES: 4 * 1024 * 1024 });
  });
  afterAll(() => app?.close());

  const input = (over: Record<string, unknown> = {}) => ({ name: 'pixels', shape: [1, 224, 224, 3], datatype: 'FP32', data: new Array(SIZE).fill(0.5), ...over });
  const infer = (body: unknown, model = 'resnet50') => request(app.server).post(`/v2/models/${model}/infer`).send(body as object);

  it('works on the happy path first', async () => {
    expect((await infer({ inputs: [input()] }).expect(200)).body.outputs).toHaveLength(2);
  });

  it.each([
    ['an unknown input', { inputs: [input({ name: 'image' })] }, /unknown input "image"/],
    ['a datatype other than FP32', { inputs: [input({ datatype: 'UINT8' })] }, /datatype must be FP32/],
    ['a wrong shape', { inputs: [input({ shape: [1, 3, 224, 224] })] }, /shape must be \[N, 224, 224, 3\]/],
    ['more images than ADVPROBE_MAX_BATCH', { inputs: [input({ shape: [3, 224, 224, 3] })] }, /N must be between 1 and 2/],
    ['too few values for the shape', { inputs: [input({ data: [0.5, 0.5] })] }, /data holds 2 values/],
    ['a value outside [0, 1]', { inputs: [input({ data: [...new Array(SIZE - 1).fill(0.5), 255] })] }, /must be in \[0, 1\]/],
    ['a string among the data', { inputs: [input({ data: ['0.5', ...new Array(SIZE - 1).fill(0.5)] })] }, /data\[0\] is not a number/],
    ['no inputs', { outputs: [] }, /inputs must hold exactly one tensor/],
    ['an unknown output', { inputs: [input()], outputs: [{ name: 'features' }] }, /unknown output "features"/],
  ])('%s is a 400 naming the problem', async (_what, body, message) => {
    const res = await infer(body).expect(400);
    expect(res.body).toEqual({ error: expect.stringMatching(message) });
  });

  it('refuses bad JSON, a header length past the body, a missing model and an oversized body in the same form', async () => {
    const badJson = await request(app.server).post('/v2/models/resnet50/infer').set('content-type', 'application/json').send('{"inputs": [').expect(400);
    expect(badJson.body).toEqual({ error: expect.stringMatching(/not JSON/) });
    const pastBody = await request(app.server).post('/v2/models/resnet50/infer').set('content-type', 'application/octet-stream').set('inference-header-content-length', '999').send(Buffer.from('{}')).expect(400);
    expect(pastBody.body).toEqual({ error: expect.stringMatching(/Inference-Header-Content-Length/) });
    const wrongSize = binaryBody({ inputs: [input({ data: undefined, parameters: { binary_data_size: 12 } })] }, new Float32Array(3));
    const res = await request(app.server).post('/v2/models/resnet50/infer').set('content-type', 'application/octet-stream').set('inference-header-content-length', String(wrongSize.headerLength)).send(wrongSize.body).expect(400);
    expect(res.body).toEqual({ error: expect.stringMatching(/binary_data_size must be 602112/) });
    expect((await infer({ inputs: [input()] }, 'vgg16').expect(404)).body).toEqual({ error: expect.stringMatching(/unknown model 'vgg16'/) });
    expect((await request(app.server).get('/v2/models/resnet50/nope').expect(404)).body).toEqual({ error: expect.any(String) });
    const huge = await request(app.server).post('/v2/models/resnet50/infer').set('content-type', 'application/octet-stream').send(Buffer.alloc(5 * 1024 * 1024)).expect(413);
    expect(huge.body).toEqual({ error: expect.any(String) });
  });

  it('uses the API keys like every other route, with health left open for probes', async () => {
    const keyed = await startTinyApp({ ADVPROBE_API_KEYS: 'secret-key' });
    try {
      expect((await request(keyed.server).post('/v2/models/resnet50/infer').send({ inputs: [input()] }).expect(401)).body).toEqual({ error: expect.stringMatching(/API key/) });
      await request(keyed.server).get('/v2/health/ready').expect(200);
      await request(keyed.server).post('/v2/models/resnet50/infer').set('authorization', 'Bearer secret-key').send({ inputs: [input()] }).expect(200);
    } finally {
      await keyed.close();
    }
  });
});
