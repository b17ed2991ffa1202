import type { ClassifierEngine } from '../model/engine';

/** Forward and gradient passes, counted per image (a batch of 8 is 8 passes). */
export interface CallCounts {
  forward: number;
  gradient: number;
}

/** The engine as an attack sees it, counting what the attack asks of it. */
export function countingEngine(engine: ClassifierEngine): { engine: ClassifierEngine; counts: CallCounts } {
  const counts: CallCounts = { forward: 0, gradient: 0 };
  return {
    counts,
    engine: {
      info: engine.info,
      logits: (batch) => {
        counts.forward += batch.count;
        return engine.logits(batch);
      },
      lossGradient: (batch, loss) => {
        counts.gradient += batch.count;
        return engine.lossGradient(batch, loss);
      },
      tensorCount: () => engine.tensorCount(),
      dispose: () => engine.dispose(),
    },
  };
}
