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

/** A class index (number or digits) or a label name in any case, spaces or dashes for underscores. */
export function classIndexOf(value: unknown, labels: readonly string[], where: string): number {
  if (typeof value === 'number' || (typeof value === 'string' && /^\s*\d+\s*$/.test(value))) {
    const index = Number(value);
    if (!Number.isInteger(index) || index < 0 || index >= labels.length) throw new Error(`${where}: class index ${String(value)} is out of range 0–${labels.length - 1}`);
    return index;
  }
  if (typeof value === 'string') {
    const wanted = value.trim().toLowerCase().replace(/[\s-]+/g, '_');
    const index = labels.findIndex((l) => l.toLowerCase() === wanted);
    if (index >= 0) return index;
    throw new Error(`${where}: unknown label "${value}"`);
  }
  throw new Error(`${where}: expected a class index or a label name, got ${JSON.stringify(value)}`);
}
