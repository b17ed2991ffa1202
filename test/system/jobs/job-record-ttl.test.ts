import { loadConfig } from '../../../src/config';
import type { JobKind } from '../../../src/jobs/job-record';
import { createRuntime, type JobRuntime } from '../../../src/jobs/runtime';
import { testRedis, uniquePrefix } from '../../helpers/redis';
import { waitFor } from '../../helpers/wait';

/**
 * Issue 26, item 3: a job's record in Redis lives as long as its job may run (its kind's own
 * time limit: a training's is hours, an attack's minutes), then ADVPROBE_JOB_TTL_S. Before,
 * every record got ADVPROBE_JOB_TIMEOUT_MS + 3600 s, and a training past that lost its record.
 * Short settings: an attack may run 1 s, a training 2 h (more than the old 3601 s), TTL 2 s.
 */
const TRAINING_S = 2 * 3600;
const TTL_S = 2;

describe('job records in Redis live as long as their kind may run', () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let runtime: JobRuntime;
  let prefix: string;
  beforeAll(async () => {
    redis = await testRedis();
    prefix = uniquePrefix();
    const settings = { ADVPROBE_REDIS_URL: redis.url, ADVPROBE_REDIS_PREFIX: prefix, ADVPROBE_JOB_TIMEOUT_MS: 1000, ADVPROBE_TRAINING_TIMEOUT_MS: TRAINING_S * 1000, ADVPROBE_JOB_TTL_S: TTL_S };
    runtime = createRuntime(loadConfig({}, settings));
  });
  afterAll(async () => {
    await runtime?.close();
    await redis?.stop();
  });

  const running = async (kind: JobKind): Promise<string> => {
    const record = await runtime.store.create({ kind, owner: null, input: { spec: {}, blobs: {} } });
    expect(await runtime.store.start(record.id)).toBe(true);
    await runtime.store.progress(record.id, { step: 1 });
    return record.id;
  };
  const ttl = (key: string): Promise<number> => runtime.rateLimitStore!.redis.ttl(`${prefix}:job:${key}`);

  test('a running training outlives the attack limit; a running attack goes after its own limit and the TTL', async () => {
    const training = await running('training');
    const attack = await running('attack');
    // Its hash and its event log: the training's limit, then the finished TTL.
    expect(await ttl(training)).toBeGreaterThan(TRAINING_S);
    expect(await ttl(`${training}:events`)).toBeGreaterThan(TRAINING_S);
    expect(await ttl(attack)).toBeLessThanOrEqual(1 + TTL_S);
    await waitFor(async () => (await runtime.store.find(attack)) === null, 10_000);
    expect(await runtime.store.find(training)).toMatchObject({ kind: 'training', status: 'running' });
  });

  test('once ended, a record keeps ADVPROBE_JOB_TTL_S', async () => {
    const training = await running('training');
    await runtime.store.finish(training, { status: 'succeeded', result: {} });
    expect(await ttl(training)).toBeLessThanOrEqual(TTL_S);
  });
});
