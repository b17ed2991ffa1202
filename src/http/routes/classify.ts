import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config';
import { reportedTiming } from '../../jobs/job-queue';
import type { ModelService } from '../../jobs/model-service';
import { observeModelJob, type Metrics } from '../../metrics';
import { ClassifyFields, ClassifyResponse, errorResponses, uploadBody } from '../schemas';
import { toModelInput } from '../model-input';
import { readImageUpload } from '../upload';

export function classifyRoutes(config: Config, model: ModelService, metrics: Metrics): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/v1/classify', {
      schema: {
        summary: 'Classify an image with the ImageNet ResNet50',
        description: 'Multipart with file field `image` and optional field `topk`, or a raw body with Content-Type image/* and `?topk=`.',
        querystring: ClassifyFields,
        uploadBody: uploadBody({ topk: ClassifyFields.properties.topk }, 'the image and its parameters'),
        response: { 200: ClassifyResponse, ...errorResponses },
      },
      handler: async (request) => {
        const { image, params } = await readImageUpload(request, ClassifyFields);
        const input = await toModelInput(image, config, model);
        const { predictions, timingMs } = await model.classify(input.pixels, params.topk ?? 5);
        observeModelJob(metrics, 'classify', timingMs);
        metrics.jobs.inc({ type: 'classify', status: 'succeeded' });
        return {
          model: model.manifest.name,
          backend: model.state.status === 'ready' ? model.state.info.backend : 'unknown',
          predictions,
          timingMs: reportedTiming(timingMs),
        };
      },
    });
  };
}
