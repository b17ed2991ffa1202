import { loadConfig } from '../../../src/config';
import { NotReadyError } from '../../../src/errors';
import { createRuntime, type JobRuntime } from '../../../src/jobs/runtime';
import { testRedis, uniquePrefix } from '../../helpers/redis';

const job = { kind: 'attack' as const, owner: null, input: { spec: {}, blobs: {} } };
const modelLoading = (): void => {
  throw new NotReadyError(5);
};

describe('the job runtime, by topology', () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  beforeAll(async () => {
    redis = await testRedis();
  });
  afterAll(() => redis?.stop());

  it('embedded: refuses jobs while the local model loads, counts the rate limit in memory, and fails its waiting jobs on drain', async () => {
    const runtime = createRuntime(loadConfig({}));
    try {
      expect(runtime.rateLimitStore).toBeNull();
      expect(runtime.readiness()).toEqual({ ready: true });
      expect(() => runtime.admission(modelLoading)?.()).toThrow(NotReadyError);
      expect(runtime.admission(null)).toBeUndefined(); // no model here to wait for
      const record = await runtime.store.create(job);
      await runtime.queue.add({ id: record.id, kind: 'attack' });
      await runtime.drain();
      expect(await runtime.queue.waiting()).toBe(0);
      expect(await runtime.store.find(record.id)).toMatchObject({ status: 'failed', error: { code: 'shutting_down', statusCode: 503 } });
    } finally {
      await runtime.close();
    }
  });

  it('distributed: jobs wait in Redis for any worker (admitted while this model loads, kept on drain); the rate limit shares its connection', async () => {
    const prefix = uniquePrefix();
    const runtime: JobRuntime = createRuntime(loadConfig({}, { ADVPROBE_REDIS_URL: redis.url, ADVPROBE_REDIS_PREFIX: prefix }));
    try {
      expect(runtime.admission(modelLoading)).toBeUndefined();
      expect(runtime.rateLimitStore).toMatchObject({ nameSpace: `${prefix}:rate-limit:` });
      const record = await runtime.store.create(job);
      await runtime.queue.add({ id: record.id, kind: 'attack' });
      expect(runtime.readiness()).toEqual({ ready: true });
      await runtime.drain();
      expect(await runtime.queue.waiting()).toBe(1);
      expect(await runtime.store.find(record.id)).toMatchObject({ status: 'queued' });
    } finally {
      await runtime.close();
    }
  });
});
