import { Type, type Static } from '@sinclair/typebox';
import { TrainingSourceSchema } from '../model/manifest';
import { jobViewSchema, JobStatusSchema } from './attack-schemas';

const SplitScore = Type.Object({
  count: Type.Integer({ description: 'images in the split' }),
  cleanAccuracy: Type.Number(),
  empiricalRisk: Type.Number({ description: 'mean cross-entropy on the clean images' }),
  robustAccuracy: Type.Number({ description: 'share still correct under PGD-10 at the training ε (same norm, seeded)' }),
  adversarialRisk: Type.Number({ description: 'mean cross-entropy at the worst point PGD-10 found' }),
});

const Scores = Type.Object({
  train: SplitScore,
  holdout: Type.Union([SplitScore, Type.Null()], { description: 'null: holdout=0' }),
});

const Epoch = Type.Object({
  epoch: Type.Integer(),
  cleanAccuracy: Type.Number({ description: 'on the training split, each batch scored before its update' }),
  empiricalRisk: Type.Number(),
  adversarialAccuracy: Type.Number({ description: "at the inner attack's δ* (attackSteps steps), before each batch's update" }),
  adversarialRisk: Type.Number(),
  seconds: Type.Number(),
});

export const TrainingSettingsView = Type.Object({
  name: Type.String(),
  model: Type.String({ description: 'the model trained from' }),
  trainable: Type.String(),
  norm: Type.String(),
  epsilon: Type.Number(),
  epsilon255: Type.Number(),
  attackSteps: Type.Integer(),
  stepSize: Type.Number(),
  randomStart: Type.Boolean(),
  epochs: Type.Integer(),
  batchSize: Type.Integer(),
  learningRate: Type.Number(),
  momentum: Type.Number(),
  weightDecay: Type.Number(),
  holdout: Type.Number(),
  seed: Type.Integer(),
});

export const TrainingResult = Type.Object(
  {
    id: Type.String(),
    status: Type.Literal('succeeded'),
    settings: TrainingSettingsView,
    model: Type.Object({ name: Type.String(), description: Type.String(), source: TrainingSourceSchema }, { description: 'the new model: use it with `model` on classify, attacks, evaluations and trainings' }),
    split: Type.Object({ train: Type.Array(Type.String()), holdout: Type.Array(Type.String()) }, { description: 'file names in each split' }),
    before: Scores,
    after: Scores,
    epochs: Type.Array(Epoch, { description: 'the per-epoch curve' }),
    timingMs: Type.Object({ total: Type.Number(), before: Type.Number(), training: Type.Number(), after: Type.Number() }),
  },
  { description: 'What adversarial training bought: the splits scored before and after, the curve, and the model it made' },
);
export type TrainingResult = Static<typeof TrainingResult>;

export const TrainingProgressSchema = Type.Union([
  Type.Object({ phase: Type.Union([Type.Literal('before'), Type.Literal('after')]), split: Type.Union([Type.Literal('train'), Type.Literal('holdout')]), done: Type.Integer(), total: Type.Integer() }),
  Type.Object({ phase: Type.Literal('training'), epoch: Type.Integer(), batch: Type.Integer(), batches: Type.Integer(), loss: Type.Number({ description: 'mean cross-entropy at the adversarial examples of this batch' }) }),
  Type.Object({ phase: Type.Literal('epoch'), ...Epoch.properties }),
]);

export const TrainingView = jobViewSchema(TrainingProgressSchema, TrainingResult);

export const TrainingAccepted = Type.Object({
  id: Type.String(),
  status: JobStatusSchema,
  location: Type.String({ description: 'the training: GET it (or …/events), DELETE it to cancel' }),
});
