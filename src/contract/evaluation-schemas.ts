import { Type, type Static } from '@sinclair/typebox';
import { jobViewSchema, JobStatusSchema } from './attack-schemas';

const Point = {
  prediction: Type.Integer({ description: 'top-1 class index' }),
  predictionLabel: Type.String(),
  loss: Type.Number({ description: 'cross-entropy of the true label' }),
  correct: Type.Boolean(),
};

const BrokenBy = Type.Union([Type.String(), Type.Null()], {
  description: 'which attack broke the image within this ε-ball (clean: misclassified without an attack; an image broken at a smaller ε keeps that attack); null: still correct',
});

export const EvaluationImageReport = Type.Object({
  name: Type.String({ description: 'the uploaded file name' }),
  label: Type.Integer(),
  labelName: Type.String(),
  clean: Type.Object({ ...Point, probability: Type.Number({ description: 'probability of the true label' }) }),
  atEpsilon: Type.Array(Type.Object({ epsilon: Type.Number(), ...Point, brokenBy: BrokenBy }), { description: 'the worst point found within each ε-ball (a misclassified point first, then the highest loss)' }),
  minimalEpsilon: Type.Union([Type.Number(), Type.Null()], { description: 'smallest ε found that flips it, pixel units (0: misclassified already); null: not flipped up to the largest ε' }),
  minimalEpsilon255: Type.Union([Type.Number(), Type.Null()]),
  lowerBound: Type.Number({ description: 'the largest ε tried that failed (0 if none did)' }),
});

export const EvaluationResult = Type.Object(
  {
    id: Type.String(),
    status: Type.Literal('succeeded'),
    model: Type.String({ description: 'the model evaluated' }),
    settings: Type.Object({
      attacks: Type.Array(
        Type.Object({
          attack: Type.String(),
          steps: Type.Integer({ description: 'gradient steps per run (apgd-t: per target); 0 for square' }),
          loss: Type.String(),
          randomStart: Type.Boolean(),
          queries: Type.Integer({ description: 'square: forward passes per run; 0 otherwise' }),
          targets: Type.Integer({ description: 'apgd-t: classes targeted; 0 otherwise' }),
        }),
        { description: 'the attacks in the order they ran, each with its settings as resolved (its own defaults for what the request left out)' },
      ),
      norm: Type.String(),
      epsilons: Type.Array(Type.Number()),
      epsilons255: Type.Array(Type.Number()),
      steps: Type.Integer(),
      stepSize: Type.Union([Type.Number(), Type.Null()], { description: 'null: 2.5·ε/steps for each ε' }),
      optimizer: Type.String({ description: 'of pgd' }),
      loss: Type.String({ description: 'of pgd and fgsm' }),
      randomStart: Type.Boolean({ description: 'of pgd and fgsm (each attack\'s own in `attacks`)' }),
      restarts: Type.Integer(),
      clamp: Type.Boolean(),
      seed: Type.Integer(),
      tolerance: Type.Union([Type.Number(), Type.Null()], { description: 'of the per-image minimal-ε search; null: minimal=false' }),
    }),
    count: Type.Integer({ description: 'images evaluated' }),
    cleanAccuracy: Type.Number(),
    empiricalRisk: Type.Number({ description: 'mean cross-entropy on the clean images' }),
    epsilons: Type.Array(
      Type.Object({
        epsilon: Type.Number({ description: 'pixel units of [0, 1]' }),
        epsilon255: Type.Number(),
        robustAccuracy: Type.Number({ description: 'share of images still classified correctly at the worst point found' }),
        adversarialRisk: Type.Number({ description: 'mean of the worst cross-entropy found within the ε-ball' }),
        successRate: Type.Number({ description: 'share of the correctly classified images that the attack flipped' }),
        brokenBy: Type.Record(Type.String(), Type.Integer(), { description: 'attack name → images it broke at this ε (each image once, under the first attack that broke it; broken at a smaller ε included)' }),
      }),
    ),
    images: Type.Array(EvaluationImageReport),
    timingMs: Type.Object({ total: Type.Number(), modelCalls: Type.Integer(), queue: Type.Number({ description: 'time the model calls waited in the queue' }), compute: Type.Number() }),
  },
  { description: 'Robustness of the model on the uploaded set' },
);
export type EvaluationResult = Static<typeof EvaluationResult>;

export const EvaluationProgressSchema = Type.Object({
  phase: Type.Union([Type.Literal('clean'), Type.Literal('attack'), Type.Literal('minimal')]),
  done: Type.Integer({ description: 'work units done: one per image per ε, plus one per image searched' }),
  total: Type.Integer(),
  epsilon: Type.Union([Type.Number(), Type.Null()]),
  attack: Type.Union([Type.String(), Type.Null()], { description: 'the attack running (phase attack)' }),
});

export const EvaluationView = jobViewSchema(EvaluationProgressSchema, EvaluationResult);

export const EvaluationAccepted = Type.Object({
  id: Type.String(),
  status: JobStatusSchema,
  location: Type.String({ description: 'the evaluation: GET it (or …/events, or ….csv), DELETE it' }),
});

