import path from 'node:path';
import { loadConfig, type Config } from '../config';
import { decodeToModelInput, type ModelImage } from '../images/decode';
import type { ClassifierEngine } from '../model/engine';
import { readLabels } from '../model/labels';
import { loadEngine } from '../model/load-engine';
import { modelFolder, readManifest, type ModelManifest } from '../model/manifest';

/** What every CLI command works with: the settings, the model's description and labels. */
export interface CliContext {
  config: Config;
  manifest: ModelManifest;
  labels: string[];
  decode(data: Buffer): Promise<ModelImage>;
}

/** Reads the settings and the model's description (cheap: options can be checked before the model loads). */
export function openContext(): CliContext {
  const config = loadConfig();
  const manifest = readManifest(config.ADVPROBE_MODELS_DIR, 'resnet50');
  const labels = readLabels(path.join(modelFolder(config.ADVPROBE_MODELS_DIR, manifest), manifest.labelsFile), manifest.numClasses);
  const decode = (data: Buffer): Promise<ModelImage> =>
    decodeToModelInput(data, { width: manifest.input.width, height: manifest.input.height, resize: config.ADVPROBE_RESIZE, maxInputPixels: config.ADVPROBE_MAX_INPUT_PIXELS });
  return { config, manifest, labels, decode };
}

/** Loads the model in this process, on ADVPROBE_BACKEND (auto by default), like the service's worker. */
export async function loadModel(ctx: CliContext, log: (line: string) => void): Promise<ClassifierEngine> {
  const started = performance.now();
  const { engine } = await loadEngine({ modelsDir: ctx.config.ADVPROBE_MODELS_DIR, manifest: ctx.manifest, backend: ctx.config.ADVPROBE_BACKEND });
  log(`${ctx.manifest.name} on ${engine.info.backend}, loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return engine;
}

