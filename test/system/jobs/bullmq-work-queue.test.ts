import { BullmqWorkQueue } from '../../../src/jobs/redis/bullmq-work-queue';
import { testRedis, uniquePrefix } from '../../helpers/redis';
import { workQueueContract } from '../../helpers/work-queue-contract';

let redis: Awaited<ReturnType<typeof testRedis>>;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis?.stop());

workQueueContract('BullMQ on Redis', async (maxWaiting) => new BullmqWorkQueue({ url: redis.url, maxWaiting, retryAfterSeconds: 5, keepFailedSeconds: 60, prefix: uniquePrefix() }));
