import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Readiness, Service } from '../../service';
import type { Lifecycle } from '../lifecycle';
import { HealthResponse, ReadyResponse } from '../schemas';

/**
 * The probes, ours and the Open Inference Protocol's, exempt from the overload check and the
 * rate limit (app.ts): they report load, they do not suffer it.
 */
export const PROBE_ROUTES = ['/healthz', '/readyz', '/v2/health/live', '/v2/health/ready', '/v2/models/:name/ready'];

/** Probes come every few seconds: their requests are logged from warn up, not each one at info. */
export const PROBE_LOG_LEVEL = 'warn';

type ReadyStatus = Readiness['status'] | 'shutting_down' | 'overloaded';

/**
 * Liveness says only that the process answers: it never touches the model worker or Redis,
 * and load does not fail it (an orchestrator would restart a busy but healthy process).
 * Readiness says whether to send work here: the model and Redis, and neither stopping nor
 * overloaded (the event loop lags, app.ts).
 */
export function healthRoutes(service: Service, lifecycle: Lifecycle): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/healthz', {
      logLevel: PROBE_LOG_LEVEL,
      schema: { summary: 'Liveness: the process answers (also while loaded or stopping)', response: { 200: HealthResponse } },
      handler: async () => ({ status: 'ok' as const }),
    });

    app.get('/readyz', {
      logLevel: PROBE_LOG_LEVEL,
      schema: {
        summary: 'Readiness: 200 once the model is loaded and warmed up (a worker) and Redis answers (distributed mode); 503 before, if either is gone, while overloaded and once stopping',
        response: { 200: ReadyResponse, 503: ReadyResponse },
      },
      handler: async (_request, reply) => {
        const readiness = service.readiness();
        const status: ReadyStatus = lifecycle.stopping ? 'shutting_down' : readiness.ready && lifecycle.overloaded() ? 'overloaded' : readiness.status;
        const body = {
          status,
          role: service.config.ADVPROBE_ROLE,
          model: service.catalog.manifest.name,
          backend: readiness.backend,
          queueLength: readiness.status === 'unavailable' ? 0 : await service.runtime.queue.waiting().catch(() => 0),
          ...(readiness.reason ? { reason: readiness.reason } : {}),
        };
        return reply.code(status === 'ready' ? 200 : 503).send(body);
      },
    });
  };
}
