import type { FastifyInstance } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { JobIdParams } from '../contract/attack-schemas';
import type { JobKind } from '../jobs/job-record';
import type { JobService } from '../jobs/job-service';
import { jobView, streamJobEvents } from './job-events';
import { errorResponses } from './error-responses';

/**
 * GET, GET …/events and DELETE of a long-running job kind under its own path (evaluations,
 * trainings): the same lifecycle, owner scoping and 404s for each.
 */
export function registerAsyncJobRoutes(app: FastifyInstance, options: { kind: JobKind; path: string; noun: string; view: TSchema; jobs: JobService; heartbeatMs: number; progress: string }): void {
  const { kind, path, noun, view, jobs, heartbeatMs } = options;
  const readErrors = errorResponses('request', 'access', 'job');
  app.get(`${path}/:id`, {
    schema: { summary: `A ${noun}: status, progress, and its result once done`, params: JobIdParams, response: { 200: view, ...readErrors } },
    handler: async (request) => jobView(await jobs.get((request.params as { id: string }).id, request.owner ?? null, kind)),
  });
  app.get(`${path}/:id/events`, {
    schema: {
      summary: `Server-sent events: \`status\` first, \`progress\` ${options.progress}, then \`result\`, \`error\` or \`cancelled\``,
      params: JobIdParams,
      produces: ['text/event-stream'],
      response: { 200: Type.String({ description: 'text/event-stream' }), ...readErrors },
    },
    handler: async (request, reply) => streamJobEvents(jobs.store, await jobs.get((request.params as { id: string }).id, request.owner ?? null, kind), request, reply, heartbeatMs),
  });
  app.delete(`${path}/:id`, {
    schema: { summary: `Cancel a running ${noun} (it stops within one model step)`, params: JobIdParams, response: { 200: view, ...errorResponses('request', 'access', 'job', 'cancel') } },
    handler: async (request) => jobView(await jobs.cancel((request.params as { id: string }).id, request.owner ?? null, kind)),
  });
}
