import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Service } from '../../service';
import type { ModelEntry } from '../../model/model-store';
import { readLabels } from '../../model/labels';
import { modelFolder } from '../../model/manifest';
import path from 'node:path';
import { errorResponses } from '../error-responses';
import { LabelsResponse, ModelDescription, ModelsResponse } from '../schemas';

const NameParams = Type.Object({ name: Type.String() });

export function modelRoutes(service: Service): FastifyPluginAsyncTypebox {
  const { models } = service;
  const describe = (entry: ModelEntry) => {
    const { name, description, input, preprocessing, numClasses, source } = entry.manifest;
    const readiness = service.readiness();
    return {
      name,
      description,
      input,
      preprocessing,
      numClasses,
      base: entry.base,
      source: source.type === 'npm' ? { type: source.type, package: source.package, version: source.version, licence: source.licence } : source,
      status: readiness.status,
      backend: readiness.backend,
    };
  };
  return async (app) => {
    app.get('/v1/models', {
      schema: { summary: 'The models this API key may use: the base model, and those it trained', response: { 200: ModelsResponse, ...errorResponses('access') } },
      handler: async (request) => ({ models: models.list(request.owner ?? null).map(describe) }),
    });

    app.delete('/v1/models/:name', {
      schema: {
        summary: 'Delete a trained model (the base model cannot be deleted: 409)',
        params: NameParams,
        response: { 200: ModelDescription, ...errorResponses('request', 'access', 'model', 'delete-model') },
      },
      handler: async (request) => describe(models.remove(request.params.name, request.owner ?? null)),
    });

    app.get('/v1/models/:name/labels', {
      schema: {
        summary: "The model's class labels, by class index (targets and labels of attacks may name them)",
        params: NameParams,
        response: { 200: LabelsResponse, ...errorResponses('request', 'access', 'model') },
      },
      handler: async (request) => {
        const { manifest, modelsDir } = models.find(request.params.name, request.owner ?? null);
        const labels = readLabels(path.join(modelFolder(modelsDir, manifest), manifest.labelsFile), manifest.numClasses);
        return { model: manifest.name, labels: labels.map((label, classIndex) => ({ classIndex, label })) };
      },
    });
  };
}
