/** Messages between `npm run bench` (bench/engines.ts) and each engine's thread (bench/engine-worker.ts). */
import type { BackendName } from '../src/model/engine';

/** TensorFlow.js's own layers model on wasm, with plain autodiff: the reference contender. */
export const LAYERS_REFERENCE = 'wasm-layers';
export type BenchContender = BackendName | typeof LAYERS_REFERENCE;

/**
 * One block: `warmup` calls at this shape, then `calls` consecutive ones, timed inside the
 * contender (warm caches, a busy thread pool: the steady state a server or an attack runs in).
 */
export interface BenchRequest {
  what: 'forward' | 'step';
  batch: number;
  calls: number;
  warmup: number;
}
/** `ms` is the block's mean per call; NaN for what a contender does not measure. */
export type BenchReply = { ready: true; loadMs: number } | { failed: string } | { ms: number };
