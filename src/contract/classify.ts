import { ModelField } from './model-field';
import { Type, type Static } from '@sinclair/typebox';

/** The classify request and result, shared by the HTTP routes, the job kinds and the CLI. */
export const Prediction = Type.Object({
  classIndex: Type.Integer({ minimum: 0 }),
  label: Type.String(),
  probability: Type.Number({ minimum: 0, maximum: 1 }),
});

export const Timing = Type.Object({
  queue: Type.Number({ description: 'ms waiting for the model worker' }),
  compute: Type.Number({ description: 'ms in the model worker' }),
  total: Type.Number({ description: 'ms from queueing to result' }),
});

export const TopK = Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'how many predictions to return' });

export const ClassifyFields = Type.Object({ topk: Type.Optional(TopK), model: ModelField }, { additionalProperties: false });
export type ClassifyFields = Static<typeof ClassifyFields>;

export const ClassifyResponse = Type.Object({
  model: Type.String(),
  backend: Type.String({ description: 'TensorFlow.js backend that ran the model' }),
  predictions: Type.Array(Prediction, { description: 'most probable first' }),
  timingMs: Timing,
});

export type ClassifyResponse = Static<typeof ClassifyResponse>;
