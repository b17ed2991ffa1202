import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Metrics } from '../../metrics';
import { errorResponses } from '../error-responses';
import { PROBE_LOG_LEVEL } from './health';

/** Prometheus metrics, and the hook that counts and times every request. */
export function metricsRoutes(metrics: Metrics): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/metrics', {
      logLevel: PROBE_LOG_LEVEL, // scraped every few seconds
      schema: {
        summary: 'Prometheus metrics (text exposition format); needs an API key when keys are on, unless ADVPROBE_METRICS_PUBLIC',
        produces: ['text/plain'],
        response: { 200: Type.String(), ...errorResponses('access') },
      },
      handler: async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    });
  };
}
