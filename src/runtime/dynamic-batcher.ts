import type { ClassifierEngine, ImageBatch, LossCoefficients, LossGradient } from '../model/engine';

/**
 * Dynamic batching in the model worker, as Triton and TorchServe do it: every job running
 * in the worker gets a session, an engine of its own whose calls wait here to be merged
 * with other sessions' calls into one engine call, then split back. So concurrent attacks
 * step together as one batch (each with its own ε, label, target and settings, since a
 * call carries its images and loss coefficients), an attack that stops early simply stops
 * calling, and a cancelled job closes its session without disturbing the others.
 *
 * When to run: at once when every open session has a call waiting (nothing more can come)
 * or `maxBatch` images are waiting; otherwise once no call has joined for `maxDelayMs`
 * (counted from the latest arrival, or from when the engine became free: the jobs whose
 * step just ended need a moment to send their next call, and waiting for them keeps the
 * jobs stepping in phase). One engine call runs at a time, and forward calls
 * (classification) go before gradient calls, so a long attack never starves
 * classification: it runs between steps.
 */
export interface BatcherOptions {
  maxBatch: number;
  maxDelayMs: number;
  /** Called once per engine call with its kind and number of images (metrics). */
  onBatch?: (kind: CallKind, images: number) => void;
}

export type CallKind = 'logits' | 'gradient';

/** A job's view of the engine; `close` when the job ends (done, failed or cancelled). */
export interface BatchSession extends ClassifierEngine {
  close(): void;
}

interface Call {
  kind: CallKind;
  batch: ImageBatch;
  loss?: LossCoefficients;
  arrived: number;
  resolve(result: LossGradient | Float32Array): void;
  reject(err: unknown): void;
}

export class DynamicBatcher {
  private readonly waiting: Call[] = [];
  private openSessions = 0;
  private running = false;
  private paused = false;
  private idle: (() => void)[] = [];
  private idleSince = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly engine: ClassifierEngine,
    private readonly options: BatcherOptions,
  ) {}

  session(): BatchSession {
    this.openSessions++;
    let open = true;
    const call = <T extends LossGradient | Float32Array>(kind: CallKind, batch: ImageBatch, loss?: LossCoefficients): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        if (!open) throw new Error('internal: engine call on a closed batch session');
        this.waiting.push({ kind, batch, loss, arrived: performance.now(), resolve: resolve as Call['resolve'], reject });
        this.schedule();
      });
    return {
      info: this.engine.info,
      logits: (batch) => call<Float32Array>('logits', batch),
      lossGradient: (batch, loss) => call<LossGradient>('gradient', batch, loss),
      tensorCount: () => this.engine.tensorCount(),
      dispose: () => undefined, // the engine belongs to the worker
      close: () => {
        if (!open) return;
        open = false;
        this.openSessions--;
        this.schedule(); // the calls waiting may now be all there will be
      },
    };
  }

  /**
   * Starts no further engine call, and resolves once the one running (if any) has ended:
   * a worker thread must not exit while a native engine call is in flight (ONNX Runtime's
   * completion callback into a finished thread aborts the whole process).
   */
  pause(): Promise<void> {
    this.paused = true;
    clearTimeout(this.timer);
    return this.running ? new Promise((resolve) => this.idle.push(resolve)) : Promise.resolve();
  }

  private schedule(): void {
    if (this.running || this.paused || this.waiting.length === 0) return;
    const images = this.waiting.reduce((n, c) => n + c.batch.count, 0);
    const waitedMs = performance.now() - Math.max(this.idleSince, this.waiting[this.waiting.length - 1].arrived);
    clearTimeout(this.timer);
    if (this.waiting.length >= this.openSessions || images >= this.options.maxBatch || waitedMs >= this.options.maxDelayMs) void this.runNext();
    else this.timer = setTimeout(() => this.schedule(), this.options.maxDelayMs - waitedMs);
  }

  /** Takes the calls of one kind (forward first), oldest first, up to maxBatch images; runs them as one. */
  private async runNext(): Promise<void> {
    this.running = true;
    const kind: CallKind = this.waiting.some((c) => c.kind === 'logits') ? 'logits' : 'gradient';
    const taken: Call[] = [];
    let images = 0;
    for (const c of this.waiting) {
      if (c.kind !== kind || (taken.length > 0 && images + c.batch.count > this.options.maxBatch)) continue;
      taken.push(c);
      images += c.batch.count;
    }
    for (const c of taken) this.waiting.splice(this.waiting.indexOf(c), 1);
    try {
      this.options.onBatch?.(kind, images);
      await this.runMerged(kind, taken, images);
    } catch (err) {
      for (const c of taken) c.reject(err);
    } finally {
      this.running = false;
      this.idleSince = performance.now();
      this.idle.splice(0).forEach((resolve) => resolve());
      this.schedule();
    }
  }

  private async runMerged(kind: CallKind, calls: Call[], images: number): Promise<void> {
    if (calls.length === 1) {
      // Nothing to merge: no copies.
      const [c] = calls;
      c.resolve(kind === 'logits' ? await this.engine.logits(c.batch) : await this.engine.lossGradient(c.batch, c.loss!));
      return;
    }
    const batch = { data: concat(calls.map((c) => c.batch.data)), count: images };
    const k = this.engine.info.numClasses;
    const size = calls[0].batch.data.length / calls[0].batch.count; // values per image
    // Each call's slice [from, from + count) of the merged batch.
    const slices = calls.map((c, i) => ({ c, from: calls.slice(0, i).reduce((n, d) => n + d.batch.count, 0) }));
    if (kind === 'logits') {
      const logits = await this.engine.logits(batch);
      for (const { c, from } of slices) c.resolve(logits.slice(from * k, (from + c.batch.count) * k));
      return;
    }
    const loss = { a: concat(calls.map((c) => c.loss!.a)), b: concat(calls.map((c) => c.loss!.b)) };
    const out = await this.engine.lossGradient(batch, loss);
    for (const { c, from } of slices) {
      const to = from + c.batch.count;
      c.resolve({ logits: out.logits.slice(from * k, to * k), loss: out.loss.slice(from, to), gradient: out.gradient.slice(from * size, to * size) });
    }
  }
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}
