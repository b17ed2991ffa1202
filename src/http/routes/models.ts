import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Service } from '../../service';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors';
import { ErrorResponse, LabelsResponse, ModelsResponse } from '../schemas';

export function modelRoutes(service: Service): FastifyPluginAsyncTypebox {
  const { catalog } = service;
  return async (app) => {
    app.get('/v1/models', {
      schema: { summary: 'The models this service runs', response: { 200: ModelsResponse } },
      handler: async () => {
        const { name, description, input, preprocessing, numClasses, source } = catalog.manifest;
        const readiness = service.readiness();
        return {
          models: [
            {
              name,
              description,
              input,
              preprocessing,
              numClasses,
              source: { package: source.package, version: source.version, licence: source.licence },
              status: readiness.status,
              backend: readiness.backend,
            },
          ],
        };
      },
    });

    app.get('/v1/models/:name/labels', {
      schema: {
        summary: "The model's class labels, by class index (targets and labels of attacks may name them)",
        params: Type.Object({ name: Type.String() }),
        response: { 200: LabelsResponse, 404: ErrorResponse },
      },
      handler: async (request) => {
        if (request.params.name !== catalog.manifest.name) throw new AppError(404, 'model_not_found', `no model ${request.params.name}; see GET /v1/models`);
        return { model: catalog.manifest.name, labels: catalog.labels.map((label, classIndex) => ({ classIndex, label })) };
      },
    });
  };
}
