import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LabelledImage } from '../src/evaluation/clean-accuracy';

/** The labelled ImageNet samples of ../shared/data/imagenet-samples (labels.json: file → {index}). */
export function readImagenetSamples(dir: string): LabelledImage[] {
  const labels = JSON.parse(readFileSync(path.join(dir, 'labels.json'), 'utf8')) as Record<string, { index: number }>;
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, { index }]) => ({ name, data: readFileSync(path.join(dir, name)), classIndex: index }));
}
