import { TrainingSourceSchema } from '../model/manifest';
import { type TSchema, Type } from '@sinclair/typebox';

/**
 * The HTTP contract, in one place: fastify validates requests and serialises responses
 * with these, and openapi.yaml is generated from them (npm run openapi). Error responses:
 * ./error-responses.ts, from the error registry.
 */
export const ModelDescription = Type.Object({
  name: Type.String(),
  description: Type.String(),
  input: Type.Object({
    height: Type.Integer(),
    width: Type.Integer(),
    channels: Type.Integer(),
    layout: Type.String(),
    range: Type.Array(Type.Number(), { description: 'pixel range the model takes; normalisation is inside the model' }),
  }),
  preprocessing: Type.Object({
    scale: Type.Number(),
    channelOrder: Type.String(),
    mean: Type.Array(Type.Number()),
    description: Type.String(),
  }),
  numClasses: Type.Integer(),
  base: Type.Boolean({ description: 'true: the base model, everyone\'s, never deleted; false: made by POST /v1/trainings, visible to its API key only' }),
  source: Type.Union([
    Type.Object({ type: Type.Literal('npm'), package: Type.String(), version: Type.String(), licence: Type.String() }),
    TrainingSourceSchema,
  ]),
  status: Type.Union([Type.Literal('loading'), Type.Literal('ready'), Type.Literal('failed'), Type.Literal('unavailable')], {
    description: "the workers' state; a trained model is loaded by a worker on first use",
  }),
  backend: Type.Union([Type.String(), Type.Null()], { description: 'backend running it, null until loaded' }),
});

export const ModelsResponse = Type.Object({ models: Type.Array(ModelDescription) });

export const LabelsResponse = Type.Object({
  model: Type.String(),
  labels: Type.Array(Type.Object({ classIndex: Type.Integer(), label: Type.String() })),
});

export const HealthResponse = Type.Object({ status: Type.Literal('ok') });

export const ReadyResponse = Type.Object({
  status: Type.Union(
    ['ready', 'loading', 'failed', 'unavailable', 'overloaded', 'shutting_down'].map((s) => Type.Literal(s)),
    { description: 'unavailable: Redis is unreachable (distributed mode); overloaded: the event loop lags (ADVPROBE_MAX_EVENT_LOOP_DELAY_MS); shutting_down: stopping after SIGTERM' },
  ),
  role: Type.Union([Type.Literal('all'), Type.Literal('api'), Type.Literal('worker')]),
  model: Type.String(),
  backend: Type.Union([Type.String(), Type.Null()], { description: "this process's engine; null before it loads, and on an API process (no model)" }),
  queueLength: Type.Integer({ description: 'jobs waiting for a model worker (in Redis: over every process)' }),
  reason: Type.Optional(Type.String()),
});

/** Documentation-only request body of a route that takes a labelled image set (evaluations, trainings). */
export function imageSetBody(fields: Record<string, TSchema>, maxImages: number): object {
  return {
    description: 'the images, their labels and the settings',
    content: {
      'multipart/form-data': {
        schema: Type.Object({
          image: Type.Array(Type.String({ format: 'binary' }), { description: `the images (repeat the field), at most ${maxImages}` }),
          label: Type.Optional(Type.Array(Type.String(), { description: 'a class index or label name per image, in the order of the images (instead of `labels`)' })),
          ...fields,
        }),
      },
    },
  };
}

/** Documentation-only request body of an image upload route (multipart or raw image). */
export function uploadBody(fields: Record<string, object>, description: string): object {
  return {
    description,
    content: {
      'multipart/form-data': {
        schema: Type.Object({
          image: Type.String({ format: 'binary', description: 'the image: JPEG, PNG, WebP, GIF (first frame), TIFF or AVIF' }),
          ...fields,
        }),
      },
      'image/*': { schema: Type.String({ format: 'binary', description: 'the image as the raw body; parameters in the query' }) },
    },
  };
}
