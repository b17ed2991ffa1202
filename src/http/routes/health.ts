import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ModelService } from '../../jobs/model-service';
import { HealthResponse, ReadyResponse } from '../schemas';

/** Liveness never touches the model worker, so it answers at once even mid-attack. */
export function healthRoutes(model: ModelService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/healthz', {
      schema: { summary: 'Liveness: the process answers', response: { 200: HealthResponse } },
      handler: async () => ({ status: 'ok' as const }),
    });

    app.get('/readyz', {
      schema: {
        summary: 'Readiness: 200 once the model is loaded and warmed up, 503 before (or if it failed to load)',
        response: { 200: ReadyResponse, 503: ReadyResponse },
      },
      handler: async (_request, reply) => {
        const state = model.state;
        const body = {
          status: state.status,
          model: model.manifest.name,
          backend: state.status === 'ready' ? state.info.backend : null,
          queueLength: model.queueLength,
          ...(state.status === 'failed' ? { reason: state.message } : {}),
        };
        return reply.code(state.status === 'ready' ? 200 : 503).send(body);
      },
    });
  };
}
