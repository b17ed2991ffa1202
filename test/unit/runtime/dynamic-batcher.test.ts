import { DynamicBatcher, type CallKind } from '../../../src/runtime/dynamic-batcher';
import type { ClassifierEngine } from '../../../src/model/engine';
import { linearEngine } from '../../helpers/linear-engine';

// Three classes over 2 pixels × 3 channels (the linear engine's images are 1×2×3).
const W = [
  [1, 0, 2, 0, 1, 0],
  [0, 1, 0, 1, 0, 3],
  [2, 2, 0, 0, 1, 1],
];
const image = (seed: number): Float32Array => Float32Array.from({ length: 6 }, (_, i) => ((seed * 7 + i * 3) % 10) / 10);
const batchOf = (...seeds: number[]) => ({ data: Float32Array.from(seeds.flatMap((s) => [...image(s)])), count: seeds.length });
const coefficients = (count: number, label: number) => {
  const a = new Float32Array(count * 3);
  for (let n = 0; n < count; n++) a[n * 3 + label] = -1;
  return { a, b: new Float32Array(count * 3).fill(0.25) };
};

function setUp(options: { maxBatch?: number; maxDelayMs?: number } = {}) {
  const engine = linearEngine(W, [0.1, -0.2, 0.3]);
  const batches: [CallKind, number][] = [];
  const batcher = new DynamicBatcher(engine, { maxBatch: 8, maxDelayMs: 10_000, ...options, onBatch: (kind, images) => batches.push([kind, images]) });
  return { engine, batcher, batches };
}

describe('DynamicBatcher', () => {
  it('merges the calls of sessions that all wait into one engine call, and splits the results exactly', async () => {
    const { engine, batcher, batches } = setUp();
    const reference = linearEngine(W, [0.1, -0.2, 0.3]);
    const [s1, s2, s3] = [batcher.session(), batcher.session(), batcher.session()];
    const results = await Promise.all([
      s1.lossGradient(batchOf(1), coefficients(1, 0)),
      s2.lossGradient(batchOf(2, 3), coefficients(2, 1)),
      s3.lossGradient(batchOf(4), coefficients(1, 2)),
    ]);
    expect(batches).toEqual([['gradient', 4]]);
    expect(engine.calls).toBe(1);
    expect(results[0]).toEqual(await reference.lossGradient(batchOf(1), coefficients(1, 0)));
    expect(results[1]).toEqual(await reference.lossGradient(batchOf(2, 3), coefficients(2, 1)));
    expect(results[2]).toEqual(await reference.lossGradient(batchOf(4), coefficients(1, 2)));
    expect(await Promise.all([s1.logits(batchOf(5)), s2.logits(batchOf(6)), s3.logits(batchOf(7))])).toEqual([
      await reference.logits(batchOf(5)),
      await reference.logits(batchOf(6)),
      await reference.logits(batchOf(7)),
    ]);
    expect(batches).toEqual([['gradient', 4], ['logits', 3]]);
  });

  it('runs a lone session at once, without waiting out the delay', async () => {
    const { batcher, batches } = setUp({ maxDelayMs: 60_000 });
    const started = performance.now();
    await batcher.session().logits(batchOf(1));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(batches).toEqual([['logits', 1]]);
  });

  it('waits at most maxDelayMs for an open session that sends nothing, and runs when it closes', async () => {
    const { batcher, batches } = setUp({ maxDelayMs: 50 });
    const idle = batcher.session();
    const started = performance.now();
    await batcher.session().logits(batchOf(1));
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);

    const { batcher: other } = setUp({ maxDelayMs: 60_000 });
    const quiet = other.session();
    const call = other.session().logits(batchOf(1));
    quiet.close(); // now every open session has a call waiting
    await expect(call).resolves.toHaveLength(3);
    idle.close();
    expect(batches).toEqual([['logits', 1]]);
  });

  it('runs forward calls (classification) before gradient calls that waited longer', async () => {
    const { batcher, batches } = setUp();
    const order: string[] = [];
    const [attack, classify] = [batcher.session(), batcher.session()];
    await Promise.all([
      attack.lossGradient(batchOf(1), coefficients(1, 0)).then(() => order.push('gradient')),
      classify.logits(batchOf(2)).then(() => {
        order.push('logits');
        classify.close(); // a classify job ends after its one call
      }),
    ]);
    expect(order).toEqual(['logits', 'gradient']);
    expect(batches).toEqual([['logits', 1], ['gradient', 1]]);
  });

  it('puts at most maxBatch images in one engine call', async () => {
    const { batcher, batches } = setUp({ maxBatch: 3 });
    const sessions = [1, 2, 3, 4, 5].map(() => batcher.session());
    await Promise.all(sessions.map((s, i) => s.logits(batchOf(i, i + 1)).finally(() => s.close())));
    expect(batches.map(([, n]) => n)).toEqual([2, 2, 2, 2, 2]); // two 2-image calls never fit in 3
    const single = setUp({ maxBatch: 4 });
    const four = [1, 2, 3, 4, 5].map(() => single.batcher.session());
    await Promise.all(four.map((s, i) => s.logits(batchOf(i)).finally(() => s.close())));
    expect(single.batches.map(([, n]) => n)).toEqual([4, 1]);
  });

  it('fails every call of a batch whose engine call failed, and goes on with the next', async () => {
    const engine = linearEngine(W, [0, 0, 0]);
    let fail = true;
    const flaky: ClassifierEngine = {
      ...engine,
      logits: async (batch) => {
        if (fail) {
          fail = false;
          throw new Error('engine failure');
        }
        return engine.logits(batch);
      },
    };
    const batcher = new DynamicBatcher(flaky, { maxBatch: 8, maxDelayMs: 10_000 });
    const [s1, s2] = [batcher.session(), batcher.session()];
    const results = await Promise.allSettled([s1.logits(batchOf(1)), s2.logits(batchOf(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    s2.close();
    await expect(s1.logits(batchOf(1))).resolves.toHaveLength(3);
  });
});
