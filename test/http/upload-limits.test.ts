import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import request from 'supertest';
import { startTinyApp } from '../helpers/app';

/**
 * The multipart parser's limits follow each route's own: per-image `label` fields broke past
 * 27 images (the plugin allowed 30 fields in all) though evaluations take 100 images and
 * trainings 500. At the route's maximum, a label per image is accepted; one image more gets
 * the route's own error.
 */
describe('multipart limits follow the route limits', () => {
  let app: FastifyInstance;
  let png: Buffer;
  beforeAll(async () => {
    png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 80, b: 40 } } }).png().toBuffer();
    // Grace 0: the accepted jobs are cancelled, and closing need not wait for them. Overload
    // is not the point: decoding 500 images on a loaded host must not answer 503 overloaded.
    app = await startTinyApp({ ADVPROBE_SHUTDOWN_GRACE_MS: 0 });
  });
  afterAll(() => app?.close());

  function post(url: string, images: number, fields: Record<string, string>) {
    let r = request(app.server).post(url);
    for (const [k, v] of Object.entries(fields)) r = r.field(k, v);
    for (let i = 0; i < images; i++) r = r.attach('image', png, `img-${i}.png`).field('label', String(i % 1000));
    return r;
  }

  async function cancel(url: string): Promise<void> {
    const res = await request(app.server).delete(url);
    expect([200, 409]).toContain(res.status);
  }

  it('an evaluation of 100 images with a label field each: 202; 101 images: too_many_files', async () => {
    const fields = { epsilons: '1/255,2/255', attacks: 'fgsm', seed: '1' };
    const accepted = await post('/v1/evaluations', 100, fields);
    expect({ status: accepted.status, error: accepted.body.error }).toEqual({ status: 202, error: undefined });
    await cancel(accepted.headers.location);
    const over = await post('/v1/evaluations', 101, fields).expect(400);
    expect(over.body.error.code).toBe('too_many_files');
  });

  it('a training of 500 images with a label field each: 202; 501 images: too_many_files', async () => {
    const fields = { name: 'many-labels', trainable: 'fc', epochs: '1', attackSteps: '1', seed: '1' };
    const accepted = await post('/v1/trainings', 500, fields);
    expect({ status: accepted.status, error: accepted.body.error }).toEqual({ status: 202, error: undefined });
    await cancel(accepted.headers.location);
    const over = await post('/v1/trainings', 501, { ...fields, name: 'too-many' }).expect(400);
    expect(over.body.error.code).toBe('too_many_files');
  });

  it('one label more than images reaches the route: it says how many labels came for how many images', async () => {
    const res = await post('/v1/evaluations', 30, { epsilons: '1/255', attacks: 'fgsm' }).field('label', '1').expect(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_parameter', message: expect.stringContaining('31 labels for 30 images') });
  });
});
