import { readFileSync } from 'node:fs';

/** Reads a {"0": "tench", ...} label file into an array indexed by class. */
export function readLabels(file: string, numClasses: number): string[] {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const labels: string[] = [];
  for (let i = 0; i < numClasses; i++) {
    const label = raw[String(i)];
    if (typeof label !== 'string') throw new Error(`label file ${file} has no label for class ${i}`);
    labels.push(label);
  }
  return labels;
}
