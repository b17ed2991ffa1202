import type { AttackProgress } from '../../../src/attacks/attack';
import type { AttackSettings } from '../../../src/attacks/types';
import { attackTask, type AttackTaskInput } from '../../../src/jobs/kinds/attack-kind';
import { createWorkerHandler } from '../../../src/runtime/model-worker';
import type { WorkerResponse } from '../../../src/runtime/protocol';
import { linearEngine } from '../../helpers/linear-engine';

// The handler without a thread (the thread entry only wires messages to it).
const W = [
  [1, 1, 1, 0, 0, 0],
  [0, 0, 0, 1, 1, 1],
];
const pixels = Uint8Array.from([150, 150, 150, 140, 140, 140]);
const settings: AttackSettings = {
  attack: 'pgd', norm: 'linf', epsilon: 0.1, steps: 20, stepSize: 0.01, optimizer: 'sign', loss: 'ce', randomStart: false, restarts: 1, earlyStop: false, clamp: true, seed: 1, quantize: 'round', queries: 0, targets: 0,
};
const makeHandler = () => createWorkerHandler(linearEngine(W, [0, 0]), { tasks: [attackTask] });
const attack = (id: number, input: Partial<AttackTaskInput> = {}) => ({ type: 'run' as const, id, task: 'attack', input: { pixels, label: null, target: { kind: 'none' as const }, settings, search: null, ...input } });

describe('model worker handler', () => {
  it('runs engine calls and registered tasks by name, with progress, and reports tensors', async () => {
    const handler = makeHandler();
    const logits = await handler.handle({ type: 'run', id: 1, task: 'logits', input: { data: new Float32Array(6).fill(0.5), count: 1 } }, () => undefined);
    expect(logits.message).toEqual({ type: 'result', id: 1, output: Float32Array.from([1.5, 1.5]) });
    expect(logits.transfer).toHaveLength(1);
    const progress: WorkerResponse[] = [];
    const attacked = await handler.handle(attack(2), (m) => progress.push(m));
    expect(attacked.message).toMatchObject({ type: 'result', id: 2, output: { label: 0, adversarial: { success: true } } });
    expect(attacked.transfer).toHaveLength(5);
    expect(progress).toHaveLength(20);
    expect(progress[0]).toMatchObject({ type: 'progress', id: 2, progress: { step: 0, steps: 20 } });
    expect((await handler.handle({ type: 'tensor-count', id: 3 }, () => undefined)).message).toEqual({ type: 'tensor-count', id: 3, count: 0 });
  });

  it('stops a running task when cancelled, and ignores cancels for other ids', async () => {
    const handler = makeHandler();
    handler.cancel(5); // nothing runs: ignored
    const seen: number[] = [];
    const answer = await handler.handle(attack(5), (m) => {
      if (m.type === 'progress') {
        const { step } = m.progress as AttackProgress;
        seen.push(step);
        if (step === 2) handler.cancel(5);
      }
    });
    expect(answer.message).toEqual({ type: 'cancelled', id: 5 });
    expect(seen).toEqual([0, 1, 2]);
  });

  it('answers failures with errors, keeping the code and status of those the client caused', async () => {
    const handler = makeHandler();
    expect((await handler.handle(attack(7, { pixels: new Uint8Array(5) }), () => undefined)).message).toMatchObject({ type: 'error', id: 7 });
    const sameAsLabel = await handler.handle(attack(8, { target: { kind: 'class', classIndex: 0 } }), () => undefined);
    expect(sameAsLabel.message).toMatchObject({ type: 'error', id: 8, code: 'invalid_parameter', status: 400, message: expect.stringContaining('target') });
    expect((await handler.handle({ type: 'run', id: 9, task: 'nope', input: null }, () => undefined)).message).toMatchObject({ type: 'error', id: 9, message: 'this worker has no task nope' });
  });
});
