import { createWorkerHandler } from '../../../src/runtime/model-worker';
import type { WorkerResponse } from '../../../src/runtime/protocol';
import type { AttackSettings } from '../../../src/attacks/types';
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
const makeHandler = () => createWorkerHandler(linearEngine(W, [0, 0]));

describe('model worker handler', () => {
  it('classifies, attacks with progress, and reports tensors', async () => {
    const handler = makeHandler();
    const classified = await handler.handle({ type: 'classify', id: 1, pixels }, () => undefined);
    expect(classified).toMatchObject({ type: 'classified', id: 1 });
    const progress: WorkerResponse[] = [];
    const attacked = await handler.handle({ type: 'attack', id: 2, pixels, label: null, target: { kind: 'none' }, settings, search: null }, (m) => progress.push(m));
    expect(attacked).toMatchObject({ type: 'attacked', id: 2, outcome: { label: 0, adversarial: { success: true } } });
    expect(progress).toHaveLength(20);
    expect(progress[0]).toMatchObject({ type: 'progress', id: 2, progress: { step: 0, steps: 20 } });
    expect(await handler.handle({ type: 'tensor-count', id: 3 }, () => undefined)).toEqual({ type: 'tensor-count', id: 3, count: 0 });
  });

  it('stops a running attack when cancelled, and ignores cancels for other ids', async () => {
    const handler = makeHandler();
    handler.cancel(5); // nothing runs: ignored
    const seen: number[] = [];
    const response = await handler.handle({ type: 'attack', id: 5, pixels, label: null, target: { kind: 'none' }, settings, search: null }, (m) => {
      if (m.type === 'progress') {
        seen.push(m.progress.step);
        if (m.progress.step === 2) handler.cancel(5);
      }
    });
    expect(response).toEqual({ type: 'cancelled', id: 5 });
    expect(seen).toEqual([0, 1, 2]);
  });

  it('answers bad requests with errors, marking those the client caused with the field', async () => {
    const handler = makeHandler();
    expect(await handler.handle({ type: 'classify', id: 7, pixels: new Uint8Array(5) }, () => undefined)).toMatchObject({ type: 'error', id: 7 });
    const sameAsLabel = await handler.handle({ type: 'attack', id: 8, pixels, label: null, target: { kind: 'class', classIndex: 0 }, settings, search: null }, () => undefined);
    expect(sameAsLabel).toMatchObject({ type: 'error', id: 8, field: 'target' });
  });
});
