import type { ClassifierEngine } from '../model/engine';
import { softmax } from '../model/predictions';
import type { WorkerRequest, WorkerResponse } from './protocol';

/**
 * What the model worker does with each request, independent of the thread it runs in, so
 * tests drive it in-process (the thread entry, worker-thread.ts, only wires messages).
 */
export function createWorkerHandler(engine: ClassifierEngine) {
  const { inputHeight, inputWidth } = engine.info;
  return async function handle(request: WorkerRequest): Promise<WorkerResponse> {
    try {
      switch (request.type) {
        case 'classify': {
          const started = performance.now();
          if (request.pixels.length !== inputHeight * inputWidth * 3) {
            throw new Error(`expected ${inputHeight}×${inputWidth}×3 pixels, got ${request.pixels.length} values`);
          }
          const data = Float32Array.from(request.pixels, (v) => v / 255);
          const logits = await engine.logits({ data, count: 1 });
          return { type: 'classified', id: request.id, probabilities: softmax(logits), computeMs: performance.now() - started };
        }
        case 'tensor-count':
          return { type: 'tensor-count', id: request.id, count: engine.tensorCount() };
      }
    } catch (err) {
      return { type: 'error', id: request.id, message: err instanceof Error ? err.message : String(err) };
    }
  };
}
