
// Math read once per module, not per element: a global lookup inside a hot loop costs
// ~70x more in jest's vm context (the test suite); outside it, nothing changes.
const { cos, floor, imul, log, sqrt } = Math;
/** A small seeded PRNG (mulberry32): the same seed gives the same random start and target. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal: () => sqrt(-2 * log(1 - next())) * cos(2 * Math.PI * next()),
    int: (n) => floor(next() * n),
  };
}

/** A fresh seed for requests that give none (it is reported, so the run can be repeated). */
export const randomSeed = (): number => floor(Math.random() * 2 ** 32);

/** Shuffles `items` in place (Fisher–Yates) with `random`, and returns them. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
