import { Type } from '@sinclair/typebox';

/** The `model` field of classify, attacks, evaluations and trainings: which model runs the job. */
export const ModelField = Type.Optional(
  Type.String({
    maxLength: 64,
    description: 'the model to use, by name (GET /v1/models): the base model (default) or one trained with POST /v1/trainings by the same API key',
  }),
);
