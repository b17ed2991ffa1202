import { AppError, QueueFullError } from '../../../src/errors';
import { ModelQueue } from '../../../src/runtime/model-queue';

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

describe('ModelQueue', () => {
  it('runs one job at a time, in order', async () => {
    const queue = new ModelQueue({ maxQueued: 10, retryAfterSeconds: 1 });
    const order: string[] = [];
    const gate = deferred<void>();
    const a = queue.run(async () => {
      order.push('a start');
      await gate.promise;
      order.push('a end');
      return 'a';
    });
    const b = queue.run(async () => {
      order.push('b start');
      return 'b';
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['a start']);
    gate.resolve();
    expect((await a).value).toBe('a');
    expect((await b).value).toBe('b');
    expect(order).toEqual(['a start', 'a end', 'b start']);
  });

  it('rejects at once with 503 + Retry-After when the waiting line is full', async () => {
    const queue = new ModelQueue({ maxQueued: 1, retryAfterSeconds: 7 });
    const gate = deferred<void>();
    const running = queue.run(() => gate.promise);
    const waiting = queue.run(async () => 'second');
    await expect(queue.run(async () => 'third')).rejects.toBeInstanceOf(QueueFullError);
    await expect(queue.run(async () => 'third')).rejects.toMatchObject({ statusCode: 503, headers: { 'retry-after': '7' } });
    gate.resolve();
    await running;
    expect((await waiting).value).toBe('second');
  });

  it('answers a call whose signal aborts while it waits with the reason at once, and never runs it', async () => {
    const queue = new ModelQueue({ maxQueued: 5, retryAfterSeconds: 1 });
    const gate = deferred<void>();
    const first = queue.run(() => gate.promise);
    const ran = jest.fn(async () => 'late');
    const limit = new AbortController();
    setTimeout(() => limit.abort(new AppError(503, 'job_timeout', 'too long')), 50);
    const second = queue.run(ran, { signal: limit.signal });
    await expect(second).rejects.toMatchObject({ code: 'job_timeout' });
    expect(queue.length).toBe(0);
    gate.resolve();
    await first.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
    expect(ran).not.toHaveBeenCalled();
  });

  it('aborts a running call’s own signal when the caller’s aborts, and answers the caller at once', async () => {
    const queue = new ModelQueue({ maxQueued: 5, retryAfterSeconds: 1 });
    const caller = new AbortController();
    const gate = deferred<void>();
    let taskSignal: AbortSignal | undefined;
    const running = queue.run(async (signal) => {
      taskSignal = signal;
      await gate.promise;
    }, { signal: caller.signal });
    await new Promise((r) => setTimeout(r, 5));
    caller.abort(new AppError(409, 'cancelled', 'the job was cancelled'));
    await expect(running).rejects.toMatchObject({ code: 'cancelled' });
    expect(taskSignal?.aborted).toBe(true);
    gate.resolve();
  });

  it('passes a failing job’s error to its caller and goes on with the next', async () => {
    const queue = new ModelQueue({ maxQueued: 5, retryAfterSeconds: 1 });
    const failing = queue.run(async () => {
      throw new AppError(500, 'boom', 'boom');
    });
    const next = queue.run(async () => 'ok');
    await expect(failing).rejects.toMatchObject({ code: 'boom' });
    expect((await next).value).toBe('ok');
  });

  it('fails waiting jobs explicitly on shutdown', async () => {
    const queue = new ModelQueue({ maxQueued: 5, retryAfterSeconds: 1 });
    const gate = deferred<void>();
    const running = queue.run(() => gate.promise);
    const waiting = queue.run(async () => 'never');
    queue.cancelWaiting(new AppError(503, 'shutting_down', 'bye'));
    await expect(waiting).rejects.toMatchObject({ code: 'shutting_down' });
    gate.resolve();
    await running;
  });

  it('runs up to slots(lane) jobs at once per lane, in order, and a full batch lane never holds back interactive jobs', async () => {
    const queue = new ModelQueue({ maxQueued: 10, retryAfterSeconds: 1, slots: (lane) => (lane === 'batch' ? 2 : 1) });
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred<void>>>();
    const job = (name: string, lane: 'batch' | 'interactive') => {
      gates.set(name, deferred<void>());
      return queue.run(async () => {
        started.push(name);
        await gates.get(name)!.promise;
        return name;
      }, { lane });
    };
    const runs = [job('a1', 'batch'), job('a2', 'batch'), job('a3', 'batch'), job('c1', 'interactive'), job('c2', 'interactive')];
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['a1', 'a2', 'c1']); // two batch slots, one interactive slot
    expect(queue.length).toBe(2);
    gates.get('c1')!.resolve();
    await runs[3];
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['a1', 'a2', 'c1', 'c2']); // a3 still waits for a batch slot
    gates.get('a2')!.resolve();
    await runs[1];
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['a1', 'a2', 'c1', 'c2', 'a3']);
    for (const gate of gates.values()) gate.resolve();
    expect((await Promise.all(runs)).map((r) => r.value)).toEqual(['a1', 'a2', 'a3', 'c1', 'c2']);
  });
});
