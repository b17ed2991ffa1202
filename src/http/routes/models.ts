import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ModelService } from '../../jobs/model-service';
import { ModelsResponse } from '../schemas';

export function modelRoutes(model: ModelService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/v1/models', {
      schema: { summary: 'The models this service runs', response: { 200: ModelsResponse } },
      handler: async () => {
        const { name, description, input, preprocessing, numClasses, source } = model.manifest;
        const state = model.state;
        return {
          models: [
            {
              name,
              description,
              input,
              preprocessing,
              numClasses,
              source: { package: source.package, version: source.version, licence: source.licence },
              status: state.status,
              backend: state.status === 'ready' ? state.info.backend : null,
            },
          ],
        };
      },
    });
  };
}
