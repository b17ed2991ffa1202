import path from 'node:path';
import { readLabels } from './labels';
import { modelFolder, readManifest, type ModelManifest } from './manifest';

/** A model's description and class labels: what the API needs without loading the model. */
export interface ModelCatalog {
  manifest: ModelManifest;
  labels: string[];
}

export const BASE_MODEL = 'resnet50';

export function loadCatalog(modelsDir: string, name = BASE_MODEL): ModelCatalog {
  const manifest = readManifest(modelsDir, name);
  const labels = readLabels(path.join(modelFolder(modelsDir, manifest), manifest.labelsFile), manifest.numClasses);
  return { manifest, labels };
}
