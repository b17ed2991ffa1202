import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import request, { type Response } from 'supertest';
import { parse } from 'yaml';
import { ERRORS, type ErrorCode } from '../../src/errors';
import type { ClassifierEngine } from '../../src/model/engine';
import { startTinyApp } from '../helpers/app';
import { hugePngHeader } from '../helpers/images';
import { tinyResNetShapedEngine } from '../helpers/tiny-engine';
import { waitFor } from '../helpers/wait';

/**
 * Errors as clients meet them, on the tiny engine of ResNet50's shapes: 5xx say their code
 * and a request id and nothing internal (that is in the log); limits name their setting; a
 * mislabelled raw body is told how to label it; probes stay out of the info log; and every
 * error seen here is one openapi.yaml lists for its route and status.
 */
const SECRET = 'ECONNREFUSED 10.1.2.3:6379 at /srv/advprobe/secret.ts:42';
const LIMITS = { ADVPROBE_MAX_UPLOAD_BYTES: 1_000_000, ADVPROBE_MAX_INPUT_PIXELS: 1_000_000, ADVPROBE_MAX_EVALUATION_BYTES: 2_000_000 };

/** The tiny engine, failing with SECRET while `failing()` says so (after its warm-up). */
function failable(engine: ClassifierEngine, failing: () => boolean): ClassifierEngine {
  const check = (): void => {
    if (failing()) throw new Error(SECRET);
  };
  return { ...engine, logits: async (batch) => (check(), engine.logits(batch)), lossGradient: async (batch, loss) => (check(), engine.lossGradient(batch, loss)) };
}

describe('errors over HTTP', () => {
  const log: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) log.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const seen: { method: string; route: string; status: number; code: string }[] = [];
  let failing = false;
  let app: FastifyInstance;
  let png: Buffer;

  beforeAll(async () => {
    app = await startTinyApp(LIMITS, {
      fastify: { logger: { level: 'info', stream } },
      engine: async () => failable(tinyResNetShapedEngine(), () => failing),
      beforeReady: (a) => a.get('/test/crash', async () => Promise.reject(new Error(SECRET))),
    });
    png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } }).png().toBuffer();
  });
  afterAll(() => app?.close());

  /** Checks the status and code of a POST to `route`, and notes them for the openapi.yaml check at the end. */
  const expectError = (res: Response, route: string, status: number, code: ErrorCode): { code: string; message: string; requestId?: string } => {
    expect([res.status, res.body.error?.code]).toEqual([status, code]);
    seen.push({ method: 'post', route, status, code });
    return res.body.error as { code: string; message: string; requestId?: string };
  };
  const logged = (requestId: string): string => JSON.stringify(log.filter((line) => line.reqId === requestId));

  it('answers an unexpected failure with 500 internal_error and a request id; the details are in the log only', async () => {
    const res = await request(app.server).get('/test/crash');
    expect(res.status).toBe(500);
    expect(res.body.error).toEqual({ code: 'internal_error', message: ERRORS.internal_error.message, requestId: expect.any(String) });
    expect(res.text).not.toContain('ECONNREFUSED');
    expect(logged(res.body.error.requestId)).toContain(SECRET);
  });

  it('answers a job the model failed with its code, no internal message, in the response and in the job record', async () => {
    failing = true;
    try {
      const sync = await request(app.server).post('/v1/classify').set('content-type', 'image/png').send(png);
      const error = expectError(sync, '/v1/classify', 500, 'model_error');
      expect(error).toEqual({ code: 'model_error', message: ERRORS.model_error.message, requestId: expect.any(String) });
      expect(sync.text).not.toContain('ECONNREFUSED');
      expect(JSON.stringify(log)).toContain(SECRET); // the executor logged the cause

      const accepted = await request(app.server).post('/v1/attacks').set('prefer', 'respond-async').query({ steps: '1' }).set('content-type', 'image/png').send(png).expect(202);
      const url = `/v1/jobs/${String(accepted.body.id)}`;
      await waitFor(async () => (await request(app.server).get(url)).body.status === 'failed', 20_000);
      const job = await request(app.server).get(url).expect(200);
      expect(job.body.error).toEqual({ code: 'model_error', message: ERRORS.model_error.message });

      const pixels = { name: 'pixels', datatype: 'FP32', shape: [1, 224, 224, 3], data: new Array(224 * 224 * 3).fill(0.5) };
      const infer = await request(app.server).post('/v2/models/resnet50/infer').set('content-type', 'application/json').send({ inputs: [pixels] });
      expect(infer.status).toBe(500);
      expect(infer.body.error).toMatch(new RegExp(`^${ERRORS.model_error.message} \\(request [0-9a-f-]{36}\\)$`));
    } finally {
      failing = false;
    }
  });

  it('tells a raw image sent as application/x-www-form-urlencoded (curl --data-binary without -H) to set its Content-Type', async () => {
    for (const route of ['/v1/classify', '/v1/attacks']) {
      const res = await request(app.server).post(route).set('content-type', 'application/x-www-form-urlencoded').send(png);
      const { message } = expectError(res, route, 415, 'unsupported_media_type');
      expect(message).toMatch(/^Content-Type application\/x-www-form-urlencoded is not accepted here; send the image as multipart\/form-data field 'image', or as the raw body with Content-Type image\/\*/);
      expect(message).toContain("-H 'Content-Type: image/jpeg'");
    }
    const json = await request(app.server).post('/v1/classify').set('content-type', 'application/json').send('{"image":"x"}');
    expect(expectError(json, '/v1/classify', 415, 'unsupported_media_type').message).toBe(
      "Content-Type application/json is not accepted here; send the image as multipart/form-data field 'image', or as the raw body with Content-Type image/*",
    );
    const set = await request(app.server).post('/v1/evaluations').set('content-type', 'application/x-www-form-urlencoded').send('a=b');
    expect(expectError(set, '/v1/evaluations', 415, 'unsupported_media_type').message).toBe("send multipart/form-data with the images in field 'image' (repeated)");
  });

  it('names the limit and its setting in image_too_large and payload_too_large', async () => {
    const huge = await request(app.server).post('/v1/classify').set('content-type', 'image/png').send(hugePngHeader(2000, 2000));
    expect(expectError(huge, '/v1/classify', 413, 'image_too_large').message).toBe('the image has 2000×2000 pixels, more than the limit of 1000000 (ADVPROBE_MAX_INPUT_PIXELS)');

    const big = Buffer.alloc(1_100_000, 7);
    const upload = 'the upload is larger than the limit of 1000000 bytes (ADVPROBE_MAX_UPLOAD_BYTES)';
    expect(expectError(await request(app.server).post('/v1/classify').set('content-type', 'image/png').send(big), '/v1/classify', 413, 'payload_too_large').message).toBe(upload);
    expect(expectError(await request(app.server).post('/v1/attacks').attach('image', big, 'big.png'), '/v1/attacks', 413, 'payload_too_large').message).toBe(upload);

    // An image set may be larger than one upload (fastify's bodyLimit does not bind multipart), up to its own limit.
    const part = Buffer.alloc(700_000, 7);
    const images = (n: number) => Array.from({ length: n }).reduce((r: request.Test, _, i) => r.attach('image', part, `${i}.png`), request(app.server).post('/v1/evaluations').field('labels', '{}'));
    expect(expectError(await images(2), '/v1/evaluations', 400, 'invalid_parameter').message).toMatch(/^epsilons: /); // read whole, then refused for its fields
    expect(expectError(await images(3), '/v1/evaluations', 413, 'payload_too_large').message).toBe('the image set is larger than the limit of 2000000 bytes (ADVPROBE_MAX_EVALUATION_BYTES)');
  });

  it('keeps health probes out of the info log, and logs other requests', async () => {
    const requests = (): number => log.filter((line) => line.msg === 'incoming request').length;
    const before = requests();
    for (const probe of ['/healthz', '/readyz', '/metrics', '/v2/health/live', '/v2/health/ready']) await request(app.server).get(probe).expect(200);
    expect(requests()).toBe(before);
    await request(app.server).get('/v1/models').expect(200);
    expect(requests()).toBe(before + 1);
  });

  it('meets only errors that openapi.yaml lists for their route and status', () => {
    const spec = parse(readFileSync(path.join(__dirname, '..', '..', 'openapi.yaml'), 'utf8')) as {
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: { properties: { error: { properties: { code: { enum: string[] } } } } } }> }> }>>;
    };
    expect(seen.length).toBeGreaterThan(8);
    for (const { method, route, status, code } of seen) {
      const documented = spec.paths[route]?.[method]?.responses[String(status)]?.content['application/json'].schema.properties.error.properties.code.enum;
      expect({ method, route, status, documented: documented?.includes(code) }).toEqual({ method, route, status, documented: true });
    }
  });
});
