import type { AttackProgress } from '../../../src/attacks/attack';
import type { AttackSettings } from '../../../src/attacks/types';
import { attackTask, type AttackTaskInput } from '../../../src/jobs/kinds/attack-kind';
import type { CallKind } from '../../../src/runtime/dynamic-batcher';
import { createWorkerHandler } from '../../../src/runtime/model-worker';
import type { WorkerResponse } from '../../../src/runtime/protocol';
import { decodeToModelInput } from '../../../src/images/decode';
import type { ClassifierEngine } from '../../../src/model/engine';
import { loadEngine } from '../../../src/model/load-engine';
import { readManifest } from '../../../src/model/manifest';
import { loadConfig } from '../../../src/config';
import { PIG, readTestFile } from '../../helpers/data';

/**
 * Dynamic batching on the real ResNet50 (ONNX Runtime): attacks with different settings run
 * concurrently in one worker handler, their steps merged into batches, and each ends exactly
 * as it does alone (same seed) — also when another job of the batch is cancelled.
 */
const base: AttackSettings = {
  attack: 'pgd', norm: 'linf', epsilon: 2 / 255, steps: 4, stepSize: 0.5 / 255, optimizer: 'sign', loss: 'ce', randomStart: false, restarts: 1, earlyStop: false, clamp: true, seed: 1, quantize: 'round', queries: 0, targets: 0,
};

describe('dynamic batching on ResNet50', () => {
  let engine: ClassifierEngine;
  let images: Uint8Array[];
  let requests: AttackTaskInput[];

  beforeAll(async () => {
    const { ADVPROBE_MODELS_DIR: modelsDir } = loadConfig();
    ({ engine } = await loadEngine({ modelsDir, manifest: readManifest(modelsDir, 'resnet50'), backend: 'onnxruntime' }));
    const decode = async (...file: string[]) => (await decodeToModelInput(readTestFile(...file), { width: 224, height: 224, resize: 'crop', maxInputPixels: 5e7 })).pixels;
    images = [await decode(...PIG), await decode('imagenet-samples', 'n01440764_tench.JPEG'), await decode('imagenet-samples', 'n02391049_zebra.JPEG')];
    // Per-sample ε, norm, target, label, seed, random start and early stop all differ.
    requests = [
      { pixels: images[0], label: null, target: { kind: 'none' }, settings: base, search: null },
      { pixels: images[1], label: 0, target: { kind: 'class', classIndex: 404 }, settings: { ...base, epsilon: 4 / 255, loss: 'margin', seed: 2, randomStart: true }, search: null },
      { pixels: images[2], label: null, target: { kind: 'none' }, settings: { ...base, norm: 'l2', epsilon: 0.5, stepSize: 0.2, earlyStop: true, seed: 3 }, search: null },
    ];
  });
  afterAll(() => engine?.dispose());

  /** Runs the requests concurrently in one handler; `onProgress` may cancel. */
  const handlerOf = (maxBatch: number, batches: [CallKind, number][]) =>
    createWorkerHandler(engine, { tasks: [attackTask], batching: { maxBatch, maxDelayMs: 50, onBatch: (kind, n) => batches.push([kind, n]) } });
  const attack = (r: AttackTaskInput, id: number) => ({ type: 'run' as const, id, task: attackTask.name, input: { ...r, pixels: r.pixels.slice() } });
  async function runTogether(maxBatch: number, list: AttackTaskInput[], onProgress?: (id: number, step: number, cancel: (id: number) => void) => void) {
    const batches: [CallKind, number][] = [];
    const handler = handlerOf(maxBatch, batches);
    const answers = await Promise.all(
      list.map((r, id) =>
        handler.handle(attack(r, id), (m: WorkerResponse) => m.type === 'progress' && onProgress?.(id, (m.progress as AttackProgress).step, handler.cancel)),
      ),
    );
    return { responses: answers.map((a) => a.message), batches };
  }
  const outcomeOf = (response: WorkerResponse) => {
    if (response.type !== 'result') throw new Error(`expected an outcome, got ${JSON.stringify(response).slice(0, 200)}`);
    return response.output;
  };

  it('merges concurrent attacks (and a classify) into batches, with the same results as alone', async () => {
    const alone = await Promise.all(requests.map(async (r) => outcomeOf((await runTogether(1, [r])).responses[0])));
    const classify = { type: 'run', id: 99, task: 'logits', input: { data: new Float32Array(images[0]).map((v) => v / 255), count: 1 } } as const;
    const batches: [CallKind, number][] = [];
    const handler = handlerOf(8, batches);
    const [together, classified] = await Promise.all([
      Promise.all(requests.map((r, id) => handler.handle(attack(r, id), () => undefined))),
      handler.handle(classify, () => undefined),
    ]);
    expect(Math.max(...batches.filter(([k]) => k === 'gradient').map(([, n]) => n))).toBe(3);
    expect(batches.some(([k, n]) => k === 'logits' && n > 1)).toBe(true);
    together.forEach((answer, i) => expect(outcomeOf(answer.message)).toEqual(alone[i]));
    expect(classified.message).toMatchObject({ type: 'result', id: 99 });
    expect(engine.tensorCount()).toBe(0);
  });

  it('cancelling one job of a batch leaves the others exactly as they would be alone', async () => {
    const alone = await Promise.all([requests[0], requests[2]].map(async (r) => outcomeOf((await runTogether(1, [r])).responses[0])));
    const { responses, batches } = await runTogether(8, requests, (id, step, cancel) => id === 1 && step === 1 && cancel(1));
    expect(responses[1]).toEqual({ type: 'cancelled', id: 1 });
    expect(outcomeOf(responses[0])).toEqual(alone[0]);
    expect(outcomeOf(responses[2])).toEqual(alone[1]);
    // All three stepped together, then the cancelled job left the batch.
    const sizes = batches.filter(([k]) => k === 'gradient').map(([, n]) => n);
    expect(sizes).toContain(3);
    expect(sizes.slice(sizes.lastIndexOf(3) + 1).every((n) => n < 3)).toBe(true);
    expect(sizes.at(-1)).toBeLessThan(3);
  });
});
