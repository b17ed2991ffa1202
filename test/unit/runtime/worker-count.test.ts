import { workerCount } from '../../../src/runtime/worker-options';

describe('workerCount: the model worker pool for a backend', () => {
  it.each([
    // [ADVPROBE_WORKERS, backend, cores, workers]
    [0, 'wasm', 2, 2], // single-threaded: one per core
    [0, 'cpu', 4, 4],
    [0, 'onnxruntime', 2, 1], // already uses every core
    [0, 'tfjs-node', 8, 1],
    [0, 'tfjs-node-gpu', 8, 1], // one GPU, one batching worker
    [3, 'wasm', 2, 3], // set by hand
    [2, 'onnxruntime', 2, 2],
    [4, 'tfjs-node-gpu', 8, 1], // never more than one on a GPU
  ] as const)('ADVPROBE_WORKERS=%d on %s with %d cores → %d', (configured, backend, cores, expected) => {
    expect(workerCount(configured, backend, cores)).toBe(expected);
  });
});
