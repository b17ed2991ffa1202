import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config';
import { AppError } from '../../errors';
import type { AttackJobs } from '../../jobs/attack-jobs';
import type { ModelService } from '../../jobs/model-service';
import { AttackFields, resolveAttackRequest } from '../attack-params';
import { AttackResult, JobAccepted } from '../attack-schemas';
import { toModelInput } from '../model-input';
import { errorResponses, ErrorResponse, uploadBody } from '../schemas';
import { readImageUpload } from '../upload';

export function attackRoutes(config: Config, model: ModelService, jobs: AttackJobs): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/v1/attacks', {
      schema: {
        summary: 'Craft an adversarial example with projected gradient descent',
        description:
          'Multipart with file field `image` and the attack fields, or a raw image/* body with the fields in the query. ' +
          'Synchronous by default (bounded by ADVPROBE_JOB_TIMEOUT_MS); with `Prefer: respond-async` it answers 202 and a `Location` to follow.',
        querystring: AttackFields,
        headers: { type: 'object', properties: { prefer: { type: 'string', description: '`respond-async` for a 202 and a job to follow' } } },
        uploadBody: uploadBody(AttackFields.properties, 'the image and the attack parameters'),
        response: { 200: AttackResult, 202: JobAccepted, ...errorResponses, 409: ErrorResponse },
      },
      handler: async (request, reply) => {
        const { image, params } = await readImageUpload(request, AttackFields);
        const spec = resolveAttackRequest(params, model.labels, config.ADVPROBE_MAX_STEPS);
        const input = await toModelInput(image, config, model);
        const job = jobs.submit(input, params, spec, request.owner);
        const location = `/v1/jobs/${job.id}`;
        if (/\brespond-async\b/i.test(String(request.headers.prefer ?? ''))) {
          return reply.code(202).header('location', location).header('preference-applied', 'respond-async').send({ id: job.id, status: job.status, location });
        }
        await job.done();
        if (job.status === 'succeeded' && job.result) return job.result;
        const error = job.error ?? { statusCode: 500, code: 'internal_error', message: 'the job ended without a result' };
        throw new AppError(error.statusCode, error.code, error.message, error.statusCode === 503 ? { 'retry-after': '5' } : {});
      },
    });
  };
}
