import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { startApp } from '../../helpers/app';
import { PIG, readTestFile } from '../../helpers/data';
import { waitFor } from '../../helpers/wait';

const SAMPLES = ['n01440764_tench.JPEG', 'n02391049_zebra.JPEG', 'n03095699_container_ship.JPEG', 'n04509417_unicycle.JPEG', 'n07747607_orange.JPEG'];

describe('dynamic batching through HTTP (real ResNet50)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startApp({ ADVPROBE_MAX_BATCH: 8, ADVPROBE_MAX_QUEUE_DELAY_MS: 20 });
  });
  afterAll(() => app?.close());

  const classify = (file: Buffer) => request(app.server).post('/v1/classify').query({ topk: 3 }).attach('image', file, 'image.jpg').expect(200);
  const forwardBatches = async () => {
    const text = (await request(app.server).get('/metrics').expect(200)).text;
    const read = (series: string) => Number(new RegExp(`^advprobe_batch_size_${series} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    return { calls: read('count{kind="forward"}'), single: read('bucket{le="1",kind="forward"}') };
  };

  it('answers concurrent classifications from merged model calls, exactly as one at a time', async () => {
    const images = [readTestFile(...PIG), ...SAMPLES.map((f) => readTestFile('imagenet-samples', f))];
    const oneByOne = [];
    for (const image of images) oneByOne.push((await classify(image)).body.predictions);
    const before = await forwardBatches();
    const together = await Promise.all(images.map((image) => classify(image)));
    const after = await forwardBatches();
    expect(together.map((r) => r.body.predictions)).toEqual(oneByOne);
    // Fewer model calls than requests: some calls held several images.
    expect(after.calls - before.calls).toBeLessThan(images.length);
    expect(after.calls - before.calls - (after.single - before.single)).toBeGreaterThan(0);
  });

  it('classifies between the steps of a long attack instead of waiting for it to end', async () => {
    const pig = readTestFile(...PIG);
    const job = await request(app.server)
      .post('/v1/attacks')
      .set('prefer', 'respond-async')
      .field('steps', '60')
      .field('earlyStop', 'false')
      .field('images', 'none')
      .attach('image', pig, 'pig.jpg')
      .expect(202);
    const status = async () => (await request(app.server).get(`/v1/jobs/${job.body.id}`).expect(200)).body;
    await waitFor(async () => ((await status()).progress?.step ?? -1) >= 1);
    const classified = await classify(pig);
    expect(classified.body.predictions[0].label).toBe('hog');
    const during = await status();
    expect(during.status).toBe('running');
    expect(during.progress.step).toBeLessThan(59);
    await request(app.server).delete(`/v1/jobs/${job.body.id}`).expect(200);
  });
});
