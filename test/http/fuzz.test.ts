import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import request from 'supertest';
import { seededRandom, type Random } from '../../src/attacks/random';
import { startTinyApp } from '../helpers/app';
import { PIG, readTestFile } from '../helpers/data';
import { hugePngHeader } from '../helpers/images';

/**
 * 2000 generated malformed requests (seeded, so a failure can be replayed): random bytes,
 * corrupt and truncated images of every format, giant dimensions, broken multipart, bad
 * parameter values, unknown and repeated fields, odd unicode, wrong routes and methods.
 * Each one has at least one certain defect: every answer must be a 4xx JSON error.
 */
const COUNT = 2000;
type Req = { method: 'GET' | 'POST' | 'DELETE' | 'PUT'; url: string; headers: Record<string, string>; payload?: Buffer; what: string };

const BOUNDARY = 'fuzzboundary7MA4YWxk';
function multipart(parts: { name: string; filename?: string; type?: string; data: Buffer | string }[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
const MULTIPART = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };

function bytes(r: Random, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => r.int(256)));
}
const pick = <T>(r: Random, xs: readonly T[]): T => xs[r.int(xs.length)];

const BAD_VALUES: Record<string, string[]> = {
  topk: ['0', '1001', '-1', 'NaN', 'Infinity', '1e309', '', 'abc', '3.5', '５', '1 OR 1=1', '\u0000'],
  epsilon: ['-1', '2', 'NaN', 'Infinity', '-Infinity', '1e309', '2/0', 'abc/255', '2//255', '', '🐷', '0x10'],
  steps: ['0', '-3', '1.5', '99999999999', 'NaN', 'ten', ''],
  stepSize: ['0', '-0.1', 'NaN', '1/0', 'x'],
  norm: ['l3', 'LINF', '', 'l∞'],
  optimizer: ['adam', ''],
  loss: ['mse', ''],
  randomStart: ['maybe', '2'],
  restarts: ['0', '-1', '101', 'two'],
  seed: ['-1', '4294967296', '1.5', 'seed'],
  target: ['not_a_label', '1000', '-5', 'ﬁsh', 'a'.repeat(500)],
  label: ['1000', 'no such label', '-1'],
  images: ['base64', ''],
  quantize: ['floor', ''],
};

async function generate(r: Random): Promise<Req[]> {
  const pig = readTestFile(...PIG);
  const small = sharp(pig).resize(48, 48);
  const formats = await Promise.all((['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const).map(async (f) => [f, await small.clone().toFormat(f).toBuffer()] as const));
  const validPng = await small.clone().png().toBuffer();
  const jpegSof = formats[0][1];
  const giantJpeg = Buffer.from(jpegSof);
  for (let i = 0; i < giantJpeg.length - 8; i++) {
    if (giantJpeg[i] === 0xff && (giantJpeg[i + 1] === 0xc0 || giantJpeg[i + 1] === 0xc2)) {
      giantJpeg.writeUInt16BE(65000, i + 5);
      giantJpeg.writeUInt16BE(65000, i + 7);
      break;
    }
  }
  const giants = [hugePngHeader(20000, 20000), hugePngHeader(100000, 1000), giantJpeg];

  const route = () => pick(r, ['/v1/classify', '/v1/attacks'] as const);
  const corruptImage = (): Buffer => {
    const [, data] = pick(r, formats);
    if (r.next() < 0.5) return data.subarray(0, 1 + r.int(Math.floor(data.length * 0.3))); // truncated
    const broken = Buffer.from(data);
    for (let i = 0; i < 8; i++) broken[i] = r.int(256); // magic bytes gone
    return broken;
  };
  const badParam = (): [string, string] => {
    const [name, values] = pick(r, Object.entries(BAD_VALUES));
    return [name, pick(r, values)];
  };
  const generators: (() => Req)[] = [
    () => ({ method: 'POST', url: route(), headers: { 'content-type': pick(r, ['image/jpeg', 'image/png', 'application/octet-stream', 'text/plain', 'application/json']) }, payload: bytes(r, 1 + r.int(4096)), what: 'random bytes' }),
    () => ({ method: 'POST', url: route(), headers: MULTIPART, payload: multipart([{ name: 'image', filename: 'x.img', type: 'image/jpeg', data: corruptImage() }]), what: 'corrupt image (multipart)' }),
    () => ({ method: 'POST', url: route(), headers: { 'content-type': pick(r, ['image/jpeg', 'image/png', 'image/webp']) }, payload: corruptImage(), what: 'corrupt image (raw)' }),
    () => ({ method: 'POST', url: route(), headers: MULTIPART, payload: multipart([{ name: 'image', filename: 'big.png', type: 'image/png', data: pick(r, giants) }]), what: 'giant dimensions' }),
    () => ({ method: 'POST', url: route(), headers: MULTIPART, payload: multipart([{ name: 'topk', data: '3' }]), what: 'no file' }),
    () => ({ method: 'POST', url: route(), headers: MULTIPART, payload: multipart([{ name: pick(r, ['file', 'img', 'IMAGE', '']), filename: 'p.png', data: validPng }]), what: 'wrong file field' }),
    () => ({ method: 'POST', url: route(), headers: MULTIPART, payload: multipart([{ name: 'image', filename: 'a.png', data: validPng }, { name: 'image', filename: 'b.png', data: validPng }]), what: 'two files' }),
    () => ({ method: 'POST', url: route(), headers: { 'content-type': 'multipart/form-data' }, payload: multipart([{ name: 'image', filename: 'a.png', data: validPng }]), what: 'no boundary' }),
    () => ({ method: 'POST', url: route(), headers: MULTIPART, payload: bytes(r, 1 + r.int(2048)), what: 'garbage multipart' }),
    () => ({ method: 'POST', url: route(), headers: MULTIPART, payload: multipart([{ name: 'image', filename: 'a.png', data: validPng }]).subarray(0, 60 + r.int(200)), what: 'cut multipart' }),
    () => ({ method: 'POST', url: route(), headers: MULTIPART, payload: Buffer.alloc(0), what: 'empty multipart' }),
    () => {
      const [name, value] = badParam();
      const url = route();
      const allowed = url === '/v1/classify' ? name === 'topk' : true;
      return { method: 'POST', url, headers: MULTIPART, payload: multipart([{ name: allowed ? name : name, data: value }, { name: 'image', filename: 'p.png', data: validPng }]), what: `bad ${name}=${JSON.stringify(value).slice(0, 40)}` };
    },
    () => {
      const [name, value] = badParam();
      return { method: 'POST', url: `/v1/attacks?${name}=${encodeURIComponent(value)}`, headers: { 'content-type': 'image/png' }, payload: validPng, what: `bad query ${name}` };
    },
    () => ({ method: 'POST', url: route(), headers: MULTIPART, payload: multipart([{ name: pick(r, ['colour', 'tоpk', '💥', 'x'.repeat(300), '__proto__', 'constructor']), data: '1' }, { name: 'image', filename: 'p.png', data: validPng }]), what: 'unknown field' }),
    () => ({ method: 'POST', url: '/v1/classify', headers: MULTIPART, payload: multipart([{ name: 'topk', data: '2' }, { name: 'topk', data: '3' }, { name: 'image', filename: 'p.png', data: validPng }]), what: 'duplicate field' }),
    () => ({ method: 'POST', url: `/v1/classify?topk=1&topk=2`, headers: { 'content-type': 'image/png' }, payload: validPng, what: 'repeated query' }),
    () => ({ method: 'POST', url: `/v1/classify?${encodeURIComponent(pick(r, ['tópk', 'x', '𝕥𝕠𝕡𝕜']))}=1`, headers: { 'content-type': 'image/png' }, payload: validPng, what: 'unknown query' }),
    () => ({ method: pick(r, ['GET', 'DELETE'] as const), url: `/v1/jobs/${pick(r, ['nope', '00000000-0000-0000-0000-000000000000', '..%2F..%2Fetc', '%00', 'x'.repeat(200)])}${pick(r, ['', '/events', '/original.png', '/delta.png?scale=50'])}`, headers: {}, what: 'unknown job' }),
    () => ({ method: 'GET', url: `/v1/jobs/abc/delta.png?scale=${pick(r, ['-1', 'abc', '1e9', '0'])}`, headers: {}, what: 'bad scale' }),
    () => ({ method: pick(r, ['PUT', 'DELETE', 'GET'] as const), url: pick(r, ['/v1/classify', '/v1/attacks', '/v1/models/resnet50', '/v2/classify', '/v1/models/vgg/labels']), headers: {}, what: 'wrong route or method' }),
    () => {
      // The Open Inference Protocol's infer: broken JSON, wrong tensors, lying binary headers.
      const bodies = [
        '{"inputs": [',
        '[]',
        '{"inputs": [{"name": "pixels", "datatype": "FP32", "shape": [1, 224, 224, 3], "data": [1, 2, 3]}]}',
        '{"inputs": [{"name": "pixels", "datatype": "INT8", "shape": [1, 224, 224, 3], "data": []}]}',
        '{"inputs": [{"name": "pixels", "datatype": "FP32", "shape": [1e9, 224, 224, 3], "data": []}]}',
        '{"inputs": [{"name": "pixels", "datatype": "FP32", "shape": [1, 224, 224, 3], "parameters": {"binary_data_size": 602112}}]}',
        '{"inputs": {"__proto__": {"name": "pixels"}}}',
        '\u0000\u0001garbage',
      ];
      const headers: Record<string, string> = { 'content-type': pick(r, ['application/json', 'application/octet-stream', 'text/plain']) };
      if (r.next() < 0.3) headers['inference-header-content-length'] = pick(r, ['-1', '99999999', 'abc', '3']);
      return { method: 'POST', url: `/v2/models/${pick(r, ['resnet50', 'resnet50', 'vgg', '..%2F..'])}/infer`, headers, payload: Buffer.from(pick(r, bodies)), what: 'bad infer' };
    },
  ];
  return Array.from({ length: COUNT }, () => pick(r, generators)());
}

describe(`fuzz: ${COUNT} malformed requests`, () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    // The HTTP layer is the point: a tiny engine of ResNet50's shapes stands in for it.
    app = await startTinyApp({ ADVPROBE_MAX_UPLOAD_BYTES: 1_000_000 });
  });
  afterAll(() => app?.close());

  it('answers every one with a 4xx JSON error, never a 5xx, and stays healthy', async () => {
    const requests = await generate(seededRandom(20261125));
    const bad: string[] = [];
    const statuses = new Map<number, number>();
    for (const [i, req] of requests.entries()) {
      let test = request(app.server)[req.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](req.url).set(req.headers);
      if (req.payload) test = test.send(req.payload);
      const res = await test.buffer(true).parse((stream, done) => {
        let text = '';
        stream.on('data', (c: Buffer) => (text += c.toString()));
        stream.on('end', () => done(null, text));
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const text = res.body as string;
      let body: { error?: { code?: unknown; message?: unknown } | string } = {};
      try {
        body = JSON.parse(text);
      } catch {
        /* checked below */
      }
      // Under /v2 the Open Inference Protocol's {"error": "..."}; everywhere else {"error": {code, message}}.
      const error = body.error;
      const wellFormed = req.url.startsWith('/v2') ? typeof error === 'string' && error.length > 0 : typeof error === 'object' && typeof error.code === 'string' && typeof error.message === 'string';
      const ok = res.status >= 400 && res.status < 500 && wellFormed;
      if (!ok) bad.push(`#${i} ${req.what} ${req.method} ${req.url.slice(0, 60)} → ${res.status} ${text.slice(0, 120)}`);
    }
    console.log(`fuzz: ${requests.length} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(bad).toEqual([]);
    expect(requests.length).toBeGreaterThanOrEqual(2000);
    await request(app.server).get('/healthz').expect(200);
    await request(app.server).get('/readyz').expect(200);
    const ok = await request(app.server).post('/v1/classify').set('content-type', 'image/jpeg').send(readTestFile(...PIG)).expect(200);
    expect(ok.body).toMatchObject({ model: 'resnet50', backend: 'cpu' });
    expect(ok.body.predictions).toHaveLength(5);
  });
});
