import { JobStore } from '../../src/jobs/job-store';

const progress = { step: 0, steps: 1, loss: 0, trueProbability: 1, targetProbability: null, epsilon: 2 / 255 };

describe('JobStore', () => {
  afterEach(() => jest.useRealTimers());

  it('keeps finished jobs for the TTL, then forgets them', () => {
    jest.useFakeTimers();
    const store = new JobStore<string>({ ttlSeconds: 60, maxJobs: 10 });
    const job = store.create();
    job.start();
    job.report(progress);
    job.succeed('done');
    expect(store.get(job.id)).toMatchObject({ status: 'succeeded', result: 'done', progress });
    jest.advanceTimersByTime(61_000);
    expect(() => store.get(job.id)).toThrow(expect.objectContaining({ statusCode: 404, code: 'job_not_found' }));
    store.close();
  });

  it('never holds more than maxJobs: the oldest finished job goes first, active jobs are never dropped', () => {
    const store = new JobStore<string>({ ttlSeconds: 600, maxJobs: 2 });
    const first = store.create();
    const second = store.create();
    first.fail({ code: 'x', message: 'x', statusCode: 500 });
    const third = store.create();
    expect(store.size).toBe(2);
    expect(() => store.get(first.id)).toThrow();
    expect(store.get(second.id)).toBe(second);
    expect(() => store.create()).toThrow(expect.objectContaining({ statusCode: 503, code: 'too_many_jobs' }));
    third.succeed('ok');
    expect(store.create()).toBeDefined();
    store.close();
  });

  it('announces the end once, to waiters and listeners, and ignores later endings', async () => {
    const store = new JobStore<string>({ ttlSeconds: 600, maxJobs: 2 });
    const job = store.create();
    const ends = jest.fn();
    job.events.on('end', ends);
    const done = job.done();
    job.fail({ code: 'cancelled', message: 'c', statusCode: 409 }, 'cancelled');
    job.succeed('too late');
    await done;
    expect(ends).toHaveBeenCalledTimes(1);
    expect(job.status).toBe('cancelled');
    expect(job.result).toBeUndefined();
    store.close();
  });
});
