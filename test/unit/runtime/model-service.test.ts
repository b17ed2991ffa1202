import { loadConfig } from '../../../src/config';
import { QueueFullError } from '../../../src/errors';
import type { ClassifierEngine } from '../../../src/model/engine';
import { ModelService } from '../../../src/runtime/model-service';
import type { WorkerTask } from '../../../src/runtime/worker-task';
import { linearEngine } from '../../helpers/linear-engine';

/** An engine whose forward calls wait for `open()`: the model stays busy on purpose. */
function gatedEngine(): { engine: ClassifierEngine; open: () => void } {
  const inner = linearEngine([[1, 1, 1], [0, 0, 0]], [0, 0]);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return { engine: { ...inner, logits: async (batch) => (await gate, inner.logits(batch)) }, open };
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined } as never;

/** The model service over an injected engine: one slot per lane, `queueSize` calls may wait. */
async function serviceWith(engine: ClassifierEngine, queueSize: number, tasks: WorkerTask<never, unknown, never>[] = []): Promise<ModelService> {
  const config = loadConfig(process.env, { ADVPROBE_QUEUE_SIZE: queueSize, ADVPROBE_MAX_BATCH: 1 });
  const service = new ModelService(config, quiet, { tasks, entry: 'unused: the engine is injected' }, async () => engine);
  await service.whenReady();
  return service;
}

describe('ModelService', () => {
  it('refuses a call at once with 503 queue_full + Retry-After once ADVPROBE_QUEUE_SIZE calls wait', async () => {
    const { engine, open } = gatedEngine();
    const service = await serviceWith(engine, 2);
    const x = new Float32Array(3).fill(0.5);
    const accepted = [service.logitsOf(x, 1), service.logitsOf(x, 1), service.logitsOf(x, 1)]; // one runs, two wait
    await expect(service.logitsOf(x, 1)).rejects.toBeInstanceOf(QueueFullError);
    await expect(service.logitsOf(x, 1)).rejects.toMatchObject({ statusCode: 503, code: 'queue_full', headers: { 'retry-after': '5' } });
    // The bound holds for an evaluation's step-by-step engine calls as well.
    const remote = service.remoteEngine({ signal: new AbortController().signal });
    await expect(remote.logits({ data: x, count: 1 })).rejects.toBeInstanceOf(QueueFullError);
    open();
    for (const result of await Promise.all(accepted)) expect(Array.from(result.logits)).toEqual([1.5, 0]);
    await service.close();
  });

  it('runs a registered task by name with its progress, and keeps an AppError it throws', async () => {
    const echo: WorkerTask<{ n: number }, number, string> = {
      name: 'echo',
      async run({ n }, context) {
        context.progress(`got ${n}`);
        if (n < 0) throw new QueueFullError(9); // any AppError: it crosses with its code and status
        return { output: n * 2 };
      },
    };
    const service = await serviceWith(linearEngine([[1, 1, 1]], [0]), 4, [echo as WorkerTask<never, unknown, never>]);
    const seen: string[] = [];
    expect((await service.run(echo, { n: 21 }, { onProgress: (p) => seen.push(p) })).value).toBe(42);
    expect(seen).toEqual(['got 21']);
    await expect(service.run(echo, { n: -1 })).rejects.toMatchObject({ statusCode: 503, code: 'queue_full' });
    await service.close();
  });
});
