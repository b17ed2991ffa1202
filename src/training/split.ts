import { seededRandom, shuffle as shuffleWith } from '../attacks/random';

/**
 * A seeded hold-out split: `fraction` of the images (rounded) kept out of training. Where a
 * label repeats, each label's images are split in that proportion (stratified), so a class
 * is not trained on and tested on only by chance; singletons are drawn at random to make up
 * the rest. The same seed and labels always give the same split.
 */
export function holdoutSplit(labels: number[], fraction: number, seed: number): { train: number[]; holdout: number[] } {
  const random = seededRandom(seed);
  const shuffle = <T>(items: T[]): T[] => shuffleWith(items, random);
  const wanted = Math.round(labels.length * fraction);
  const byLabel = new Map<number, number[]>();
  labels.forEach((label, i) => byLabel.set(label, [...(byLabel.get(label) ?? []), i]));
  const holdout: number[] = [];
  const singletons: number[] = [];
  for (const indices of byLabel.values()) {
    if (indices.length === 1) singletons.push(indices[0]);
    else holdout.push(...shuffle(indices).slice(0, Math.floor(indices.length * fraction)));
  }
  const rest = shuffle([...singletons, ...labels.map((_, i) => i).filter((i) => !singletons.includes(i) && !holdout.includes(i))]);
  // Singletons first, so repeated labels keep their stratified share.
  rest.sort((a, b) => Number(singletons.includes(b)) - Number(singletons.includes(a)));
  holdout.push(...rest.slice(0, Math.max(0, wanted - holdout.length)));
  const kept = new Set(holdout);
  return { train: labels.map((_, i) => i).filter((i) => !kept.has(i)), holdout: [...kept].sort((a, b) => a - b) };
}
