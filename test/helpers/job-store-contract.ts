import type { JobEvent } from '../../src/jobs/job-record';
import { waitForEnd, type JobStore } from '../../src/jobs/job-store';

const input = () => ({ spec: { topk: 3, nested: { a: [1, 2] } }, blobs: { pixels: Uint8Array.from({ length: 1000 }, (_, i) => i % 256) } });
const failure = { code: 'boom', message: 'it broke', statusCode: 500 };

/**
 * What every JobStore must do, run against each implementation (memory and Redis) by the
 * suites that import it. `make(ttlSeconds)` builds a fresh, empty store.
 */
export function jobStoreContract(name: string, make: (ttlSeconds: number) => Promise<JobStore>): void {
  describe(`JobStore contract: ${name}`, () => {
    let store: JobStore;
    beforeEach(async () => {
      store = await make(600);
    });
    afterEach(() => store.close());

    it('stores a queued job with its input, and shows it to its owner and kind only (else 404)', async () => {
      const job = await store.create({ kind: 'attack', owner: 'alice', input: input() });
      expect(job).toMatchObject({ kind: 'attack', owner: 'alice', status: 'queued', startedAt: null, finishedAt: null, progress: null });
      expect(await store.get(job.id, 'alice', 'attack')).toEqual(job);
      await expect(store.get(job.id, 'bob')).rejects.toMatchObject({ statusCode: 404, code: 'job_not_found' });
      await expect(store.get(job.id, null)).rejects.toMatchObject({ statusCode: 404 });
      await expect(store.get(job.id, 'alice', 'evaluation')).rejects.toMatchObject({ statusCode: 404 });
      await expect(store.get('no-such-job', 'alice')).rejects.toMatchObject({ statusCode: 404 });
      expect(await store.find(job.id)).toEqual(job);
      expect(await store.find('no-such-job')).toBeNull();
      const stored = await store.input(job.id);
      expect(stored?.spec).toEqual(input().spec);
      expect(Buffer.from(stored!.blobs.pixels).equals(Buffer.from(input().blobs.pixels))).toBe(true);
    });

    it('starts a job once, and never one that has ended', async () => {
      const job = await store.create({ kind: 'classify', owner: null, input: input() });
      expect(await store.start(job.id)).toBe(true);
      expect(await store.start(job.id)).toBe(false);
      expect((await store.find(job.id))!.status).toBe('running');
      expect((await store.find(job.id))!.startedAt).not.toBeNull();
      const other = await store.create({ kind: 'classify', owner: null, input: input() });
      await store.finish(other.id, { status: 'cancelled', error: failure });
      expect(await store.start(other.id)).toBe(false);
      expect(await store.start('no-such-job')).toBe(false);
    });

    it('numbers the events from 1, replays them after any seq, and delivers new ones live', async () => {
      const job = await store.create({ kind: 'attack', owner: null, input: input() });
      await store.start(job.id);
      const live: JobEvent[] = [];
      const unsubscribe = await store.subscribe(job.id, (event) => live.push(event));
      for (let step = 1; step <= 3; step++) await store.progress(job.id, { step });
      expect((await store.find(job.id))!.progress).toEqual({ step: 3 });
      expect(await store.events(job.id, 0)).toEqual([1, 2, 3].map((step) => ({ seq: step, type: 'progress', data: { step } })));
      expect(await store.events(job.id, 2)).toEqual([{ seq: 3, type: 'progress', data: { step: 3 } }]);
      await store.finish(job.id, { status: 'succeeded', result: { ok: true } });
      await waitUntil(() => live.length === 4);
      expect(live.map((e) => [e.seq, e.type])).toEqual([[1, 'progress'], [2, 'progress'], [3, 'progress'], [4, 'end']]);
      expect(live[3].data).toEqual({ status: 'succeeded' });
      unsubscribe();
      await store.progress(job.id, { step: 99 }); // after the end: ignored
      expect(await store.events(job.id, 0)).toHaveLength(4);
    });

    it('ends a job exactly once, with its result and artifacts, and drops its input', async () => {
      const job = await store.create({ kind: 'attack', owner: null, input: input() });
      const png = Uint8Array.from([0, 255, 1, 254, 128]);
      expect(await store.finish(job.id, { status: 'succeeded', result: { answer: 42 }, artifacts: { adversarial: png } })).toBe(true);
      expect(await store.finish(job.id, { status: 'failed', error: failure })).toBe(false);
      const ended = await store.find(job.id);
      expect(ended).toMatchObject({ status: 'succeeded', result: { answer: 42 } });
      expect(ended!.finishedAt).not.toBeNull();
      expect(ended!.error).toBeUndefined();
      expect(Array.from((await store.artifact(job.id, 'adversarial'))!)).toEqual(Array.from(png));
      expect(await store.artifact(job.id, 'original')).toBeNull();
      expect(await store.input(job.id)).toBeNull();
    });

    it('ends a job "only if queued" only while nobody runs it', async () => {
      const queued = await store.create({ kind: 'attack', owner: null, input: input() });
      expect(await store.finish(queued.id, { status: 'cancelled', error: failure }, { onlyIfQueued: true })).toBe(true);
      expect((await store.find(queued.id))).toMatchObject({ status: 'cancelled', error: failure });
      const running = await store.create({ kind: 'attack', owner: null, input: input() });
      await store.start(running.id);
      expect(await store.finish(running.id, { status: 'cancelled', error: failure }, { onlyIfQueued: true })).toBe(false);
      expect((await store.find(running.id))!.status).toBe('running');
    });

    it('passes cancel requests to every listener and keeps the flag for a worker that starts later', async () => {
      const job = await store.create({ kind: 'attack', owner: null, input: input() });
      const heard: string[] = [];
      const off = await store.onCancelRequest((id) => heard.push(id));
      expect(await store.cancelRequested(job.id)).toBe(false);
      await store.requestCancel(job.id);
      await waitUntil(() => heard.length === 1);
      expect(heard).toEqual([job.id]);
      expect(await store.cancelRequested(job.id)).toBe(true);
      off();
      await store.requestCancel('no-such-job'); // harmless
      expect(await store.find('no-such-job')).toBeNull();
    });

    it('waitForEnd resolves with the final record, also for a job that ended already', async () => {
      const job = await store.create({ kind: 'classify', owner: null, input: input() });
      const waiting = waitForEnd(store, job.id);
      await store.start(job.id);
      setTimeout(() => void store.finish(job.id, { status: 'failed', error: failure }), 50);
      expect(await waiting).toMatchObject({ status: 'failed', error: failure });
      expect(await waitForEnd(store, job.id)).toMatchObject({ status: 'failed' });
    });

    it('forgets finished jobs after the TTL, but not running ones', async () => {
      const short = await make(1);
      try {
        const done = await short.create({ kind: 'attack', owner: null, input: input() });
        const running = await short.create({ kind: 'attack', owner: null, input: input() });
        await short.start(running.id);
        await short.finish(done.id, { status: 'succeeded', result: 1, artifacts: { a: Uint8Array.of(1) } });
        await new Promise((r) => setTimeout(r, 1300));
        expect(await short.find(done.id)).toBeNull();
        expect(await short.artifact(done.id, 'a')).toBeNull();
        expect(await short.events(done.id, 0)).toEqual([]);
        expect((await short.find(running.id))!.status).toBe('running');
      } finally {
        await short.close();
      }
    });
  });
}

async function waitUntil(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
