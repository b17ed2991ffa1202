import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type AppError, appError, invalidParameter } from '../errors';
import { BASE_MODEL } from './catalog';
import { modelFolder, readManifest, readManifestFile, type ModelManifest, type TrainingSource } from './manifest';
import type { Parameter } from './trainable';
import type { LayerGraph } from './layer-graph';
import { readLayersModel, type WeightArray } from './weights';

/**
 * The models a service can run: the base model (models/<name>.json, committed) and the
 * versions adversarial training made, each in its own folder
 * models/trained/<owner>/<name>/ (manifest.json, model.json, weights.bin, labels.json) —
 * a TensorFlow.js layers model like the base one, so every engine loads it the same way,
 * and TensorFlow.js itself can too. A trained model belongs to the API key that trained it
 * (its digest names the folder; `shared` when keys are off): other keys neither see, use
 * nor delete it. The base model is everyone's and cannot be deleted. Everything lives on
 * disk, so models survive restarts, and worker processes that mount the same folder see
 * the same models.
 */
export interface ModelEntry {
  manifest: ModelManifest;
  /** The folder whose parent is the `modelsDir` the engine loaders take (they add manifest.name). */
  modelsDir: string;
  base: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SHARED = 'shared';

/** A model name: a short identifier, never a path. */
export function checkModelName(name: string, field = 'model'): string {
  if (!NAME.test(name) || name.includes('..')) {
    throw invalidParameter(`${field}: a model name is 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit (got ${JSON.stringify(name)})`);
  }
  return name;
}

/** Where a trained model's manifest is: in `folder` (its owner's), under its name. */
const manifestPath = (folder: string, name: string): string => path.join(folder, name, 'manifest.json');
export const readTrainedManifest = (folder: string, name: string): ModelManifest => readManifestFile(manifestPath(folder, name));

const notFound = (name: string): AppError => appError('model_not_found', { detail: `no model ${name}; see GET /v1/models` });

export class ModelStore {
  private readonly trainedDir: string;

  constructor(private readonly modelsDir: string) {
    this.trainedDir = path.join(modelsDir, 'trained');
  }

  /** The base model and the trained models `owner` may use. */
  list(owner: string | null): ModelEntry[] {
    const folder = this.ownerFolder(owner);
    const trained = existsSync(folder)
      ? readdirSync(folder, { withFileTypes: true })
          .filter((d) => d.isDirectory() && NAME.test(d.name) && existsSync(manifestPath(folder, d.name)))
          .map((d) => this.trainedEntry(folder, d.name))
          .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name))
      : [];
    return [this.baseEntry(), ...trained];
  }

  /** The model `name` as `owner` sees it: 404 when it does not exist for them. */
  find(name: string, owner: string | null): ModelEntry {
    checkModelName(name);
    if (name === BASE_MODEL) return this.baseEntry();
    const folder = this.ownerFolder(owner);
    if (!existsSync(manifestPath(folder, name))) throw notFound(name);
    return this.trainedEntry(folder, name);
  }

  /** Whether `name` is taken for `owner` (the base model's name always is). */
  exists(name: string, owner: string | null): boolean {
    return name === BASE_MODEL || existsSync(manifestPath(this.ownerFolder(owner), name));
  }

  /**
   * Writes a trained model: the source's layers model with the trained weights in place and
   * each folded batch-norm reset to the identity (its effect is inside the trained conv
   * kernel and bias now). Written to a temporary folder and renamed, so a crash never leaves
   * half a model; 409 if the name was taken meanwhile.
   */
  save(source: ModelEntry, graph: LayerGraph, parameters: readonly Parameter[], options: { name: string; owner: string | null; description: string; training: TrainingSource }): ModelEntry {
    checkModelName(options.name, 'name');
    const folder = this.ownerFolder(options.owner);
    const target = path.join(folder, options.name);
    if (this.exists(options.name, options.owner)) throw modelExists(options.name);
    const { manifest } = source;
    const sourceFolder = modelFolder(source.modelsDir, manifest);
    const modelJsonPath = path.join(sourceFolder, manifest.modelFile);
    const files = readLayersModel(modelJsonPath);
    const weights = trainedWeights(files.weights, graph, parameters);
    const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as { weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[] };
    const entries = json.weightsManifest.flatMap((group) => group.weights);
    json.weightsManifest = [{ paths: ['weights.bin'], weights: entries.map(({ name, shape }) => ({ name, shape, dtype: 'float32' })) }];
    const staging = path.join(folder, `.${options.name}.${process.pid}.${Date.now()}`);
    mkdirSync(staging, { recursive: true });
    try {
      writeFileSync(path.join(staging, 'weights.bin'), Buffer.concat(entries.map(({ name }) => Buffer.from(weights[name].data.buffer, weights[name].data.byteOffset, weights[name].data.byteLength))));
      writeFileSync(path.join(staging, 'model.json'), JSON.stringify(json));
      copyFileSync(path.join(sourceFolder, manifest.labelsFile), path.join(staging, 'labels.json'));
      const trained: ModelManifest = { ...manifest, name: options.name, description: options.description, source: options.training, owner: options.owner, modelFile: 'model.json', labelsFile: 'labels.json' };
      writeFileSync(path.join(staging, 'manifest.json'), `${JSON.stringify(trained, null, 2)}\n`);
      if (existsSync(target)) throw modelExists(options.name);
      renameSync(staging, target);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return this.trainedEntry(folder, options.name);
  }

  /** Deletes `owner`'s trained model `name`: 409 for the base model, 404 for what they cannot see. */
  remove(name: string, owner: string | null): ModelEntry {
    const entry = this.find(name, owner);
    if (entry.base) throw appError('model_protected', { name });
    rmSync(path.join(this.ownerFolder(owner), name), { recursive: true, force: true });
    return entry;
  }

  private baseEntry(): ModelEntry {
    return { manifest: readManifest(this.modelsDir, BASE_MODEL), modelsDir: this.modelsDir, base: true };
  }

  private trainedEntry(folder: string, name: string): ModelEntry {
    return { manifest: readTrainedManifest(folder, name), modelsDir: folder, base: false };
  }

  private ownerFolder(owner: string | null): string {
    return path.join(this.trainedDir, owner ?? SHARED);
  }
}

export const modelExists = (name: string, where = ''): AppError => appError('model_exists', { name, where });

/** The source's Keras weights with the trained ones written back (conv: kernel and bias, BN reset; dense: kernel and bias). */
function trainedWeights(weights: Record<string, WeightArray>, graph: LayerGraph, parameters: readonly Parameter[]): Record<string, WeightArray> {
  const out = { ...weights };
  const set = (name: string, data: Float32Array): void => {
    const known = out[name];
    if (!known || known.data.length !== data.length) throw new Error(`cannot save: the model has no weight ${name} of ${data.length} values`);
    out[name] = { shape: known.shape, data };
  };
  for (const p of parameters) set(p.name, p.data);
  for (const op of graph.ops) {
    if (op.kind !== 'conv' || !op.batchNorm || !parameters.some((p) => p.op === op.name)) continue;
    const channels = op.bias.length;
    const { name, epsilon } = op.batchNorm;
    set(`${name}/gamma`, new Float32Array(channels).fill(1));
    set(`${name}/beta`, new Float32Array(channels));
    set(`${name}/moving_mean`, new Float32Array(channels));
    // scale = γ/√(var + ε) = 1 (to float32 rounding, ~6e-8).
    set(`${name}/moving_variance`, new Float32Array(channels).fill(1 - epsilon));
  }
  return out;
}
