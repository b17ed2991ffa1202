import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { JobIdParams, JobView } from '../../contract/attack-schemas';
import { appError } from '../../errors';
import { encodePng, exactDelta, scaledDelta } from '../../images/encode';
import type { JobService } from '../../jobs/job-service';
import type { ModelCatalog } from '../../model/catalog';
import { jobView, streamJobEvents } from '../job-events';
import { errorResponses } from '../error-responses';

const PNG_DESCRIPTIONS = {
  'original.png': 'the exact 224×224 8-bit model input',
  'adversarial.png': 'the 8-bit adversarial image (lossless)',
  'delta.png':
    'the perturbation. Without `scale`: exact, each channel = 128 + adversarial − original, so original + delta − 128 = adversarial bit for bit. ' +
    'With `scale` (e.g. 50): the picture scale·δ + 0.5, as in the tutorial',
} as const;

/** Attack jobs: their status, cancel, events and images, from whichever process asks. */
export function jobRoutes(jobs: JobService, catalog: ModelCatalog, heartbeatMs: number): FastifyPluginAsyncTypebox {
  return async (app) => {
    const readErrors = errorResponses('request', 'access', 'job');

    app.get('/v1/jobs/:id', {
      schema: { summary: 'A job: status, progress, and its result once done', params: JobIdParams, response: { 200: JobView, ...readErrors } },
      handler: async (request) => jobView(await jobs.get(request.params.id, request.owner ?? null, 'attack')),
    });

    app.delete('/v1/jobs/:id', {
      schema: {
        summary: 'Cancel a queued or running job (a running attack stops within one step)',
        params: JobIdParams,
        response: { 200: JobView, ...errorResponses('request', 'access', 'job', 'cancel') },
      },
      handler: async (request) => jobView(await jobs.cancel(request.params.id, request.owner ?? null, 'attack')),
    });

    app.get('/v1/jobs/:id/events', {
      schema: {
        summary: 'Server-sent events: `status` first, a `progress` event per step, then `result`, `error` or `cancelled`; each after `status` has an id, and a reconnect with `Last-Event-ID` resumes after it',
        params: JobIdParams,
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'text/event-stream' }), ...readErrors },
      },
      handler: async (request, reply) => streamJobEvents(jobs.store, await jobs.get(request.params.id, request.owner ?? null, 'attack'), request, reply, heartbeatMs),
    });

    for (const [file, description] of Object.entries(PNG_DESCRIPTIONS)) {
      const isDelta = file === 'delta.png';
      app.get(`/v1/jobs/:id/${file}`, {
        schema: {
          summary: `PNG: ${description}`,
          params: JobIdParams,
          ...(isDelta ? { querystring: Type.Object({ scale: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'e.g. 50 for the tutorial picture' })) }, { additionalProperties: false }) } : {}),
          produces: ['image/png'],
          response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description }), ...errorResponses('request', 'access', 'job', 'artifact') },
        },
        handler: async (request, reply) => {
          const job = await jobs.get(request.params.id, request.owner ?? null, 'attack');
          const [original, adversarial] = await Promise.all([jobs.store.artifact(job.id, 'original'), jobs.store.artifact(job.id, 'adversarial')]);
          if (job.status !== 'succeeded' || !original || !adversarial) throw appError('job_not_succeeded', { noun: 'job', id: job.id, status: job.status, artifact: 'images exist' });
          const { width, height } = catalog.manifest.input;
          const scale = (request.query as { scale?: number }).scale;
          const pixels = file === 'original.png' ? original : file === 'adversarial.png' ? adversarial : scale ? scaledDelta(original, adversarial, scale) : exactDelta(original, adversarial).pixels;
          return reply.type('image/png').send(await encodePng(pixels, width, height));
        },
      });
    }
  };
}
