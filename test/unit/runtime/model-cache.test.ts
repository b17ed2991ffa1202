import type { ClassifierEngine } from '../../../src/model/engine';
import { ModelCache, type ModelLoader } from '../../../src/runtime/model-cache';
import type { ModelRef } from '../../../src/runtime/protocol';
import { tinyResNetShapedEngine } from '../../helpers/tiny-engine';

/** A loader over tiny engines that records what it loaded and what was disposed. */
function recordingLoader(maxLoaded: number) {
  const loaded: string[] = [];
  const disposed: string[] = [];
  const loader: ModelLoader = {
    modelsDir: '/nowhere',
    maxLoaded,
    engine: async (ref) => {
      if (ref.name === 'broken') throw new Error('cannot load broken');
      loaded.push(ref.name);
      const engine: ClassifierEngine = { ...tinyResNetShapedEngine(), dispose: () => void disposed.push(ref.name) };
      return engine;
    },
    trainable: () => Promise.reject(new Error('not here')),
  };
  return { loader, loaded, disposed };
}
const ref = (name: string, version = 'v1'): ModelRef => ({ name, modelsDir: '/nowhere', version });
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the model cache of a worker', () => {
  const batching = { maxBatch: 1, maxDelayMs: 0 };

  it('loads a model once, and evicts the least recently used idle one past the bound', async () => {
    const { loader, loaded, disposed } = recordingLoader(1);
    const cache = new ModelCache(batching, loader);
    const a = await cache.acquire(ref('a'));
    expect(await cache.acquire(ref('a'))).toBe(a);
    cache.release(ref('a'));
    cache.release(ref('a'));
    await cache.acquire(ref('b'));
    await settle();
    expect(loaded).toEqual(['a', 'b']);
    expect(disposed).toEqual(['a']);
  });

  it('never evicts a model in use, nor the one being acquired; a new version is another model', async () => {
    const { loader, disposed } = recordingLoader(1);
    const cache = new ModelCache(batching, loader);
    await cache.acquire(ref('a')); // held
    await cache.acquire(ref('b')); // over the bound, but a is in use and b is being acquired
    await settle();
    expect(disposed).toEqual([]);
    cache.release(ref('a'));
    await cache.acquire(ref('b', 'v2'));
    await settle();
    expect(disposed).toEqual(['a']);
  });

  it('a failed load fails its request and is tried again by the next', async () => {
    const { loader } = recordingLoader(2);
    const cache = new ModelCache(batching, loader);
    await expect(cache.acquire(ref('broken'))).rejects.toThrow(/cannot load/);
    cache.release(ref('broken'));
    await expect(cache.acquire(ref('broken'))).rejects.toThrow(/cannot load/);
  });

  it('without a loader (an injected engine) loads nothing', async () => {
    await expect(new ModelCache(batching).acquire(ref('a'))).rejects.toThrow(/injected engine/);
  });
});
