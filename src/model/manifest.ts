import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** The committed description of a model (models/<name>.json); the weights live in models/<name>/. */
export const ModelManifestSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  source: Type.Object({
    type: Type.Literal('npm'),
    package: Type.String(),
    version: Type.String(),
    integrity: Type.String(),
    licence: Type.String(),
    files: Type.Record(Type.String(), Type.String()),
  }),
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
  const file = path.join(modelsDir, `${name}.json`);
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
