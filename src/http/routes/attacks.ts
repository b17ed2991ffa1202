import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Config } from '../../config';
import { AttackFields, attackLimits, resolveAttackRequest } from '../../contract/attack-params';
import { AttackResult, JobAccepted } from '../../contract/attack-schemas';
import type { AttackSpec } from '../../contract/job-specs';
import type { JobRecord } from '../../jobs/job-record';
import type { JobService } from '../../jobs/job-service';
import type { ModelCatalog } from '../../model/catalog';
import type { ModelStore } from '../../model/model-store';
import { toModelInput } from '../model-input';
import { errorResponses } from '../error-responses';
import { syncWait } from '../prefer';
import { uploadBody } from '../schemas';
import { readImageUpload } from '../upload';

const Accepted = Type.Object(JobAccepted.properties, {
  description: 'The job to follow at `Location`: asked for (`Prefer: respond-async`), or the synchronous wait is over and the job runs on. `Preference-Applied` names the preferences applied',
});

/** 202 with the job to follow: asked for (`Prefer: respond-async`), or the synchronous wait is over. */
function accepted(reply: FastifyReply, job: JobRecord, applied: string | null): FastifyReply {
  const location = `/v1/jobs/${job.id}`;
  if (applied) reply.header('preference-applied', applied);
  return reply.code(202).header('location', location).send({ id: job.id, status: job.status, location });
}

export function attackRoutes(config: Config, catalog: ModelCatalog, jobs: JobService, models: ModelStore): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/v1/attacks', {
      schema: {
        summary: 'Craft an adversarial example with projected gradient descent',
        description:
          'Multipart with file field `image` and the attack fields, or a raw image/* body with the fields in the query. ' +
          'Synchronous by default: it waits for the result up to ADVPROBE_SYNC_WAIT_MS (55 s), or `Prefer: wait=N` seconds where that is less; ' +
          'past the wait it answers 202 with the job\'s `Location` and the job runs on. With `Prefer: respond-async` it answers 202 at once ' +
          '(with `respond-async, wait=N`: after the wait, if the job has not ended). `Preference-Applied` names the preferences it applied.',
        querystring: AttackFields,
        headers: { type: 'object', properties: { prefer: { type: 'string', description: '`respond-async` for a 202 and a job to follow; `wait=N` to wait at most N seconds for the result before the 202 (RFC 7240)' } } },
        uploadBody: uploadBody(AttackFields.properties, 'the image and the attack parameters'),
        response: { 200: AttackResult, 202: Accepted, ...errorResponses('request', 'access', 'upload', 'model', 'run', 'submit') },
      },
      handler: async (request, reply) => {
        const { image, params } = await readImageUpload(request, AttackFields);
        const attack = resolveAttackRequest(params, catalog.labels, attackLimits(config));
        if (params.model !== undefined) models.find(params.model, request.owner ?? null);
        const input = await toModelInput(image, config, catalog);
        const spec: AttackSpec = { fields: params, request: attack, width: input.width, height: input.height };
        const job = { spec, blobs: { pixels: input.pixels } };
        const owner = request.owner ?? null;
        const wait = syncWait(config, request.headers.prefer);
        if (wait.immediate) return accepted(reply, await jobs.submit('attack', owner, job), wait.appliedAsync);
        const outcome = await jobs.runWithin('attack', owner, job, wait.ms);
        if (!outcome.ended) return accepted(reply, outcome.job, wait.appliedAsync);
        if (wait.appliedSync) reply.header('preference-applied', wait.appliedSync);
        return outcome.job.result as AttackResult;
      },
    });
  };
}
