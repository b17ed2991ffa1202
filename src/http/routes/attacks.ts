import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config';
import { AttackFields, attackLimits, resolveAttackRequest } from '../../contract/attack-params';
import { AttackResult, JobAccepted } from '../../contract/attack-schemas';
import type { AttackSpec } from '../../contract/job-specs';
import type { JobService } from '../../jobs/job-service';
import type { ModelCatalog } from '../../model/catalog';
import type { ModelStore } from '../../model/model-store';
import { toModelInput } from '../model-input';
import { errorResponses } from '../error-responses';
import { uploadBody } from '../schemas';
import { readImageUpload } from '../upload';

export function attackRoutes(config: Config, catalog: ModelCatalog, jobs: JobService, models: ModelStore): FastifyPluginAsyncTypebox {
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
        response: { 200: AttackResult, 202: JobAccepted, ...errorResponses('request', 'access', 'upload', 'model', 'run', 'submit') },
      },
      handler: async (request, reply) => {
        const { image, params } = await readImageUpload(request, AttackFields);
        const attack = resolveAttackRequest(params, catalog.labels, attackLimits(config));
        if (params.model !== undefined) models.find(params.model, request.owner ?? null);
        const input = await toModelInput(image, config, catalog);
        const spec: AttackSpec = { fields: params, request: attack, width: input.width, height: input.height };
        const job = { spec, blobs: { pixels: input.pixels } };
        const owner = request.owner ?? null;
        if (/\brespond-async\b/i.test(String(request.headers.prefer ?? ''))) {
          const accepted = await jobs.submit('attack', owner, job);
          const location = `/v1/jobs/${accepted.id}`;
          return reply.code(202).header('location', location).header('preference-applied', 'respond-async').send({ id: accepted.id, status: accepted.status, location });
        }
        return (await jobs.run('attack', owner, job)).result as AttackResult;
      },
    });
  };
}
