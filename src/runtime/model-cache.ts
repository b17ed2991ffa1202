import type { ClassifierEngine } from '../model/engine';
import type { LayerGraph } from '../model/layer-graph';
import type { TrainableEngine, TrainableSelection } from '../model/trainable';
import { DynamicBatcher, type BatcherOptions } from './dynamic-batcher';
import type { ModelRef } from './protocol';

/** How a worker loads models besides the one it started with, on its own backend. */
export interface ModelLoader {
  /** The models folder (trained models are saved under it). */
  readonly modelsDir: string;
  /** Most trained models kept loaded at once (ADVPROBE_MAX_LOADED_MODELS). */
  readonly maxLoaded: number;
  /** The model `ref` names (absent: the worker's own model) as the worker serves it. */
  engine(ref: ModelRef): Promise<ClassifierEngine>;
  /** A trainable copy of `ref` (absent: the worker's own model), with its lowered graph. */
  trainable(ref: ModelRef | undefined, selection: TrainableSelection): Promise<{ engine: TrainableEngine; graph: LayerGraph }>;
}

interface Entry {
  loading: Promise<{ engine: ClassifierEngine; batcher: DynamicBatcher }>;
  engine?: ClassifierEngine;
  users: number;
  lastUsed: number;
}

/**
 * The trained models a worker has loaded: on first use, each with its own batcher, at most
 * `maxLoaded` of them; past that the least recently used one that no request is using is
 * disposed (one in use stays, so the bound can be passed briefly).
 */
export class ModelCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly batching: BatcherOptions,
    private readonly loader?: ModelLoader,
  ) {}

  async acquire(ref: ModelRef): Promise<DynamicBatcher> {
    const loader = this.loader;
    if (!loader) throw new Error('this worker runs an injected engine and loads no other model');
    const key = keyOf(ref);
    let entry = this.entries.get(key);
    if (!entry) {
      const loading = loader.engine(ref).then((engine) => {
        created.engine = engine;
        return { engine, batcher: new DynamicBatcher(engine, this.batching) };
      });
      const created: Entry = { loading, users: 0, lastUsed: Date.now() };
      entry = created;
      this.entries.set(key, entry);
      loading.catch(() => this.entries.delete(key)); // a failed load is retried by the next request
    }
    entry.users++; // before evicting: the entry being acquired is never the one to go
    entry.lastUsed = Date.now();
    this.evict(loader.maxLoaded);
    return (await entry.loading).batcher; // on failure the caller still releases it
  }

  release(ref: ModelRef): void {
    const entry = this.entries.get(keyOf(ref));
    if (entry) entry.users = Math.max(0, entry.users - 1);
  }

  /** Tensors the loaded models hold. */
  tensorCount(): number {
    return [...this.entries.values()].reduce((sum, e) => sum + (e.engine?.tensorCount() ?? 0), 0);
  }

  async pause(): Promise<void> {
    await Promise.all([...this.entries.values()].map(async (e) => (await e.loading.catch(() => undefined))?.batcher.pause()));
  }

  private evict(maxLoaded: number): void {
    const idle = [...this.entries.entries()].filter(([, e]) => e.users === 0).sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (let excess = this.entries.size - maxLoaded; excess > 0 && idle.length > 0; excess--) {
      const [key, entry] = idle.shift()!;
      this.entries.delete(key);
      void entry.loading.then(({ engine }) => engine.dispose(), () => undefined);
    }
  }
}

const keyOf = (ref: ModelRef): string => `${ref.modelsDir}/${ref.name}#${ref.version}`;
