import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Service } from '../../service';
import { HealthResponse, ReadyResponse } from '../schemas';

/** Probes come every few seconds: their requests are logged from warn up, not each one at info. */
export const PROBE_LOG_LEVEL = 'warn';

/** Liveness never touches the model worker or Redis, so it answers at once even mid-attack. */
export function healthRoutes(service: Service): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/healthz', {
      logLevel: PROBE_LOG_LEVEL,
      schema: { summary: 'Liveness: the process answers', response: { 200: HealthResponse } },
      handler: async () => ({ status: 'ok' as const }),
    });

    app.get('/readyz', {
      logLevel: PROBE_LOG_LEVEL,
      schema: {
        summary: 'Readiness: 200 once the model is loaded and warmed up (a worker) and Redis answers (distributed mode); 503 before, or if either is gone',
        response: { 200: ReadyResponse, 503: ReadyResponse },
      },
      handler: async (_request, reply) => {
        const readiness = service.readiness();
        const body = {
          status: readiness.status,
          role: service.config.ADVPROBE_ROLE,
          model: service.catalog.manifest.name,
          backend: readiness.backend,
          queueLength: readiness.status === 'unavailable' ? 0 : await service.queue.waiting().catch(() => 0),
          ...(readiness.reason ? { reason: readiness.reason } : {}),
        };
        return reply.code(readiness.ready ? 200 : 503).send(body);
      },
    });
  };
}
