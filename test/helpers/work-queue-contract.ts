import type { QueuedJob, WorkQueue } from '../../src/jobs/work-queue';

/**
 * What every WorkQueue must do, run against each implementation (memory, BullMQ on Redis).
 * `make(maxWaiting)` builds a fresh, empty queue.
 */
export function workQueueContract(name: string, make: (maxWaiting: number) => Promise<WorkQueue>): void {
  describe(`WorkQueue contract: ${name}`, () => {
    const queues: WorkQueue[] = [];
    const fresh = async (maxWaiting = 100): Promise<WorkQueue> => {
      const queue = await make(maxWaiting);
      queues.push(queue);
      return queue;
    };
    afterEach(async () => {
      await Promise.all(queues.splice(0).map((q) => q.close()));
    });

    it('hands each job to the consumer once, in arrival order', async () => {
      const queue = await fresh();
      const jobs: QueuedJob[] = Array.from({ length: 5 }, (_, i) => ({ id: `job-${i}-${Math.random()}`, kind: 'attack' }));
      for (const job of jobs) await queue.add(job);
      expect(await queue.waiting()).toBe(5);
      const seen: QueuedJob[] = [];
      await queue.consume(async (job) => void seen.push(job), () => 1);
      await until(() => seen.length === 5);
      expect(seen).toEqual(jobs);
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toHaveLength(5);
      await until(async () => (await queue.waiting()) === 0);
    });

    it('refuses a job with 503 queue_full + Retry-After once maxWaiting wait, and takes it again when room frees', async () => {
      const queue = await fresh(2);
      await queue.add({ id: `a-${Math.random()}`, kind: 'attack' });
      await queue.add({ id: `b-${Math.random()}`, kind: 'classify' });
      await expect(queue.assertRoom()).rejects.toMatchObject({ statusCode: 503, code: 'queue_full', headers: { 'retry-after': expect.any(String) } });
      await expect(queue.add({ id: `c-${Math.random()}`, kind: 'attack' })).rejects.toMatchObject({ code: 'queue_full' });
      const done: string[] = [];
      await queue.consume(async (job) => void done.push(job.id), () => 1);
      await until(() => done.length === 2);
      await until(async () => (await queue.waiting()) === 0);
      await expect(queue.add({ id: `d-${Math.random()}`, kind: 'attack' })).resolves.toBeUndefined();
    });

    it('runs up to concurrency(lane) jobs at once, and classifications beside a full batch lane', async () => {
      const queue = await fresh();
      let running = 0;
      let most = 0;
      const finished: string[] = [];
      const release: (() => void)[] = [];
      await queue.consume(async (job) => {
        if (job.kind === 'classify') return void finished.push(job.id);
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => release.push(resolve));
        running--;
        finished.push(job.id);
      }, (lane) => (lane === 'batch' ? 2 : 1));
      for (let i = 0; i < 4; i++) await queue.add({ id: `long-${i}-${Math.random()}`, kind: 'attack' });
      await until(() => release.length === 2);
      const quick = `quick-${Math.random()}`;
      await queue.add({ id: quick, kind: 'classify' });
      await until(() => finished.includes(quick)); // not stuck behind the two long jobs
      expect(running).toBe(2);
      while (finished.length < 5) {
        release.splice(0).forEach((r) => r());
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(most).toBe(2);
    });

    it('stopConsuming waits for the running job and takes no new ones', async () => {
      const queue = await fresh();
      const started: string[] = [];
      let finish!: () => void;
      await queue.consume(async (job) => {
        started.push(job.id);
        await new Promise<void>((resolve) => (finish = resolve));
      }, () => 1);
      await queue.add({ id: `x-${Math.random()}`, kind: 'attack' });
      await until(() => started.length === 1);
      await queue.add({ id: `y-${Math.random()}`, kind: 'attack' });
      let stopped = false;
      const stopping = queue.stopConsuming().then(() => (stopped = true));
      await new Promise((r) => setTimeout(r, 200));
      expect(stopped).toBe(false);
      finish();
      await stopping;
      await new Promise((r) => setTimeout(r, 300));
      expect(started).toHaveLength(1);
      expect(await queue.waiting()).toBe(1); // still there for another consumer
    });
  });
}

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
