import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Config } from '../../config';
import { imageLabels } from '../../contract/evaluation-params';
import type { TrainingSpec } from '../../contract/job-specs';
import { resolveTrainingSettings, TrainingFields, trainingLimits } from '../../contract/training-params';
import { TrainingAccepted, TrainingView } from '../../contract/training-schemas';
import type { JobService } from '../../jobs/job-service';
import type { ModelCatalog } from '../../model/catalog';
import { modelExists, type ModelStore } from '../../model/model-store';
import { registerAsyncJobRoutes } from '../async-job-routes';
import { toModelInputs } from '../model-input';
import { errorResponses } from '../error-responses';
import { imageSetBody } from '../schemas';
import { readImageUploads } from '../upload';

export function trainingRoutes(config: Config, catalog: ModelCatalog, jobs: JobService, models: ModelStore, heartbeatMs: number): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/v1/trainings', {
      schema: {
        summary: 'Adversarially fine-tune a model on labelled images; the result is a new model (asynchronous)',
        description:
          'Multipart: the images in field `image` (repeated) and their labels as POST /v1/evaluations takes them, the new model\'s `name`, and the training fields. ' +
          'Answers 202 with a `Location` to follow. The result scores both splits before and after (clean and PGD-10 at the training ε), gives the per-epoch curve, ' +
          'and names the new model, which GET /v1/models lists and `model` selects.',
        querystring: Type.Partial(TrainingFields),
        uploadBody: imageSetBody(TrainingFields.properties, config.ADVPROBE_MAX_TRAINING_IMAGES),
        response: { 202: TrainingAccepted, ...errorResponses('request', 'access', 'upload', 'model', 'submit', 'training') },
      },
      handler: async (request, reply) => {
        const owner = request.owner ?? null;
        const { images: files, params, repeated } = await readImageUploads(request, TrainingFields, {
          maxFiles: config.ADVPROBE_MAX_TRAINING_IMAGES,
          maxTotalBytes: config.ADVPROBE_MAX_EVALUATION_BYTES,
          repeatable: ['label'],
        });
        const settings = resolveTrainingSettings(params, files.length, trainingLimits(config));
        if (settings.model !== null) models.find(settings.model, owner);
        if (models.exists(settings.name, owner)) throw modelExists(settings.name);
        const labels = imageLabels(files, params, repeated.label, catalog.labels);
        const { pixels, width, height } = await toModelInputs(files, config, catalog);
        const spec: TrainingSpec = { settings, images: files.map((file, i) => ({ name: file.filename, label: labels[i] })), width, height };
        const job = await jobs.submit('training', owner, { spec, blobs: { pixels } });
        const location = `/v1/trainings/${job.id}`;
        return reply.code(202).header('location', location).send({ id: job.id, status: job.status, location });
      },
    });

    registerAsyncJobRoutes(app, { kind: 'training', path: '/v1/trainings', noun: 'training', view: TrainingView, jobs, heartbeatMs, progress: 'while scoring, after each batch (its loss) and each epoch (its figures)' });
  };
}
