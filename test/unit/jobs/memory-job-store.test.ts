import { MemoryJobStore } from '../../../src/jobs/memory/memory-job-store';
import { jobStoreContract } from '../../helpers/job-store-contract';

jobStoreContract('memory', async (ttlSeconds) => new MemoryJobStore({ ttlSeconds, maxJobs: 100 }));

describe('MemoryJobStore limits', () => {
  it('never holds more than maxJobs: the oldest finished job goes first, active jobs are never dropped', async () => {
    const store = new MemoryJobStore({ ttlSeconds: 600, maxJobs: 2 });
    const input = { spec: null, blobs: {} };
    const first = await store.create({ kind: 'attack', owner: null, input });
    const second = await store.create({ kind: 'attack', owner: null, input });
    await store.finish(first.id, { status: 'failed', error: { code: 'x', message: 'x', statusCode: 500 } });
    const third = await store.create({ kind: 'attack', owner: null, input });
    expect(await store.find(first.id)).toBeNull();
    expect(await store.find(second.id)).not.toBeNull();
    await expect(store.create({ kind: 'attack', owner: null, input })).rejects.toMatchObject({ statusCode: 503, code: 'too_many_jobs' });
    await store.finish(third.id, { status: 'succeeded', result: 'ok' });
    await expect(store.create({ kind: 'attack', owner: null, input })).resolves.toBeDefined();
    await store.close();
  });
});
