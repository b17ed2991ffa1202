import { classIndexOf } from '../model/labels';

/**
 * Labels for a set of images, as people already have them: a JSON object from file name to
 * a class index (404), a label name ("airliner"), or an object with `index` (the shape of
 * ImageNet sample lists: {"index": 404, "name": "airliner"}).
 */
export function parseLabelsMap(json: unknown, labels: readonly string[]): Map<string, number> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('labels must be a JSON object mapping file names to class indices or label names');
  const map = new Map<string, number>();
  for (const [file, value] of Object.entries(json)) {
    const raw = typeof value === 'object' && value !== null && 'index' in value ? (value as { index: unknown }).index : value;
    map.set(file, classIndexOf(raw, labels, `labels["${file}"]`));
  }
  return map;
}
