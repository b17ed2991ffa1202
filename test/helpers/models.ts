import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';

/** A models folder of a test's own: the base model linked in, trained models written there. */
export function tempModelsDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'advprobe-models-'));
  const base = loadConfig().ADVPROBE_MODELS_DIR;
  symlinkSync(path.join(base, 'resnet50.json'), path.join(dir, 'resnet50.json'));
  symlinkSync(path.join(base, 'resnet50'), path.join(dir, 'resnet50'));
  return dir;
}
