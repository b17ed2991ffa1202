import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Config } from '../../config';
import type { EvaluationSpec } from '../../contract/job-specs';
import { appError } from '../../errors';
import type { JobService } from '../../jobs/job-service';
import type { ModelCatalog } from '../../model/catalog';
import type { ModelStore } from '../../model/model-store';
import { JobIdParams } from '../../contract/attack-schemas';
import { attackLimits } from '../../contract/attack-params';
import { EvaluationFields, imageLabels, resolveEvaluationSettings } from '../../contract/evaluation-params';
import { EvaluationAccepted, EvaluationView } from '../../contract/evaluation-schemas';
import { registerAsyncJobRoutes } from '../async-job-routes';
import { toModelInputs } from '../model-input';
import { errorResponses } from '../error-responses';
import { imageSetBody } from '../schemas';
import { readImageUploads } from '../upload';

export function evaluationRoutes(config: Config, catalog: ModelCatalog, jobs: JobService, models: ModelStore, heartbeatMs: number): FastifyPluginAsyncTypebox {
  return async (app) => {

    app.post('/v1/evaluations', {
      schema: {
        summary: 'Evaluate robustness on a set of labelled images (asynchronous)',
        description:
          'Multipart: the images in field `image` (repeated), their labels (a `labels` JSON map by file name, or a `label` field per image in order), ' +
          '`epsilons`, and the attack fields. Answers 202 with a `Location` to follow; the result holds clean accuracy, empirical risk, ' +
          'and per ε robust accuracy, adversarial risk and attack success rate, and a row per image (also as CSV).',
        // The settings may also come in the query (read by the same parser); a multipart field wins.
        querystring: Type.Partial(EvaluationFields),
        uploadBody: imageSetBody(EvaluationFields.properties, config.ADVPROBE_MAX_EVALUATION_IMAGES),
        response: { 202: EvaluationAccepted, ...errorResponses('request', 'access', 'upload', 'model', 'submit') },
      },
      handler: async (request, reply) => {
        const { images: files, params, repeated } = await readImageUploads(request, EvaluationFields, {
          maxFiles: config.ADVPROBE_MAX_EVALUATION_IMAGES,
          maxTotalBytes: config.ADVPROBE_MAX_EVALUATION_BYTES,
          repeatable: ['label'],
        });
        const settings = resolveEvaluationSettings(params, attackLimits(config));
        if (params.model !== undefined) models.find(params.model, request.owner ?? null);
        const labels = imageLabels(files, params, repeated.label, catalog.labels);
        const { pixels, width, height } = await toModelInputs(files, config, catalog);
        const spec: EvaluationSpec = { settings, images: files.map((file, i) => ({ name: file.filename, label: labels[i] })), width, height, model: params.model ?? null };
        const job = await jobs.submit('evaluation', request.owner ?? null, { spec, blobs: { pixels } });
        const location = `/v1/evaluations/${job.id}`;
        return reply.code(202).header('location', location).send({ id: job.id, status: job.status, location });
      },
    });

    app.get('/v1/evaluations/:id.csv', {
      schema: {
        summary: 'The per-image table of a finished evaluation, as CSV',
        params: JobIdParams,
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'text/csv: file, label, clean prediction, prediction/correct/loss at each ε, minimal ε' }), ...errorResponses('request', 'access', 'job', 'artifact') },
      },
      handler: async (request, reply) => {
        const job = await jobs.get(request.params.id, request.owner ?? null, 'evaluation');
        const csv = await jobs.store.artifact(job.id, 'csv');
        if (job.status !== 'succeeded' || !csv) throw appError('job_not_succeeded', { noun: 'evaluation', id: job.id, status: job.status, artifact: 'the CSV exists' });
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="evaluation-${job.id}.csv"`).send(new TextDecoder().decode(csv));
      },
    });

    registerAsyncJobRoutes(app, { kind: 'evaluation', path: '/v1/evaluations', noun: 'evaluation', view: EvaluationView, jobs, heartbeatMs, progress: 'as images are done' });
  };
}
