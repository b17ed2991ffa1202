import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config';
import { ClassifyFields, ClassifyResponse } from '../../contract/classify';
import type { ClassifySpec } from '../../contract/job-specs';
import type { JobService } from '../../jobs/job-service';
import type { ModelCatalog } from '../../model/catalog';
import type { ModelStore } from '../../model/model-store';
import { errorResponses } from '../error-responses';
import { uploadBody } from '../schemas';
import { toModelInput } from '../model-input';
import { readImageUpload } from '../upload';

export function classifyRoutes(config: Config, catalog: ModelCatalog, jobs: JobService, models: ModelStore): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/v1/classify', {
      schema: {
        summary: 'Classify an image with the ImageNet ResNet50',
        description: 'Multipart with file field `image` and optional fields `topk` and `model`, or a raw body with Content-Type image/* and `?topk=&model=`.',
        querystring: ClassifyFields,
        uploadBody: uploadBody(ClassifyFields.properties, 'the image and its parameters'),
        response: { 200: ClassifyResponse, ...errorResponses('request', 'access', 'upload', 'model', 'run') },
      },
      handler: async (request) => {
        const { image, params } = await readImageUpload(request, ClassifyFields);
        if (params.model !== undefined) models.find(params.model, request.owner ?? null); // 400 or 404 now, not in the job
        const input = await toModelInput(image, config, catalog);
        const spec: ClassifySpec = { topk: params.topk ?? 5, model: params.model ?? null };
        const job = await jobs.run('classify', request.owner ?? null, { spec, blobs: { pixels: input.pixels } });
        return job.result as ClassifyResponse;
      },
    });
  };
}
