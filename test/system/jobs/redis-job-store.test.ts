import { RedisJobStore } from '../../../src/jobs/redis/redis-job-store';
import { testRedis, uniquePrefix } from '../../helpers/redis';
import { jobStoreContract } from '../../helpers/job-store-contract';

let redis: Awaited<ReturnType<typeof testRedis>>;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis?.stop());

jobStoreContract('Redis', async (ttlSeconds) => new RedisJobStore({ url: redis.url, ttlSeconds, activeTtlSeconds: 600, prefix: uniquePrefix() }));
