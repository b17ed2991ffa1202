import { Type, type Static } from '@sinclair/typebox';
import { randomSeed } from '../attacks/random';
import { appError, invalidParameter } from '../errors';
import { checkModelName } from '../model/model-store';
import { TRAINABLE_SELECTIONS, type TrainableSelection } from '../model/trainable';
import type { AdversarialTrainingSettings } from '../training/adversarial-training';
import { AttackFields, Fraction, fraction } from './attack-params';
import { ModelField } from './model-field';

const attack = AttackFields.properties;

/** The fields of POST /v1/trainings (and `advprobe train`): the images and labels as an evaluation takes them, plus these. */
export const TrainingFields = Type.Object(
  {
    labels: Type.Optional(Type.String({ description: 'JSON object: file name → class index, label name, or {"index": n}; or send a `label` field per image, in the order of the images' })),
    name: Type.String({ description: "the new model's name: 1–64 letters, digits, '-', '_' or '.'" }),
    model: ModelField,
    epsilon: Type.Optional(Fraction('radius ε of the inner attack, pixel units of [0, 1] (a number or a fraction such as 1/255); default 1/255')),
    norm: attack.norm,
    attackSteps: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: 'inner PGD steps per batch; default 3 (1 with randomStart is FGSM-RS, "fast is better than free")' })),
    stepSize: Type.Optional(Fraction('inner PGD step size; default 2.5·ε/attackSteps')),
    randomStart: Type.Optional(Type.Boolean({ description: 'inner PGD starts at a random point of the ball; default true' })),
    epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'passes over the training split; default 4' })),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'images per SGD step; default 8' })),
    learningRate: Type.Optional(Fraction('SGD learning rate; default 1e-4 (1e-3 destroyed clean accuracy in our measurements, README)')),
    momentum: Type.Optional(Fraction('SGD momentum; default 0.9')),
    weightDecay: Type.Optional(Fraction('L2 penalty on the kernels; default 0')),
    trainable: Type.Optional(Type.Union(TRAINABLE_SELECTIONS.map((s) => Type.Literal(s)), { description: 'fc (the dense layer), last-stage (the last residual stage and fc; default) or all' })),
    holdout: Type.Optional(Fraction('share of the images kept out of training for the report (seeded, stratified where labels repeat); default 0.2')),
    seed: attack.seed,
  },
  { additionalProperties: false },
);
export type TrainingFields = Static<typeof TrainingFields>;

export interface TrainingSettings extends AdversarialTrainingSettings {
  name: string;
  /** The model trained from (null: the base model). */
  model: string | null;
  trainable: TrainableSelection;
  holdout: number;
}

export interface TrainingLimits {
  maxImages: number;
  /** Most images × epochs × (attackSteps + 1): the engine passes a training may cost. */
  maxBudget: number;
}

export const trainingLimits = (config: { ADVPROBE_MAX_TRAINING_IMAGES: number; ADVPROBE_MAX_TRAINING_BUDGET: number }): TrainingLimits => ({
  maxImages: config.ADVPROBE_MAX_TRAINING_IMAGES,
  maxBudget: config.ADVPROBE_MAX_TRAINING_BUDGET,
});

export function resolveTrainingSettings(fields: TrainingFields, imageCount: number, limits: TrainingLimits): TrainingSettings {
  const number = (text: string | undefined, field: string, fallback: number, ok: (v: number) => boolean, rule: string): number => {
    const value = text === undefined ? fallback : fraction(text, field);
    if (!Number.isFinite(value) || !ok(value)) throw invalidParameter(`${field}: ${rule} (got ${value})`);
    return value;
  };
  const norm = fields.norm ?? 'linf';
  const largest = norm === 'linf' ? 1 : Math.sqrt(224 * 224 * 3);
  const epsilon = number(fields.epsilon, 'epsilon', 1 / 255, (v) => v > 0 && v <= largest, `must be greater than 0 and at most ${largest === 1 ? 1 : largest.toFixed(1)}`);
  const attackSteps = fields.attackSteps ?? 3;
  const settings: TrainingSettings = {
    name: checkModelName(fields.name, 'name'),
    model: fields.model === undefined ? null : checkModelName(fields.model),
    norm,
    epsilon,
    attackSteps,
    stepSize: number(fields.stepSize, 'stepSize', (2.5 * epsilon) / attackSteps, (v) => v > 0, 'must be greater than 0'),
    randomStart: fields.randomStart ?? true,
    epochs: fields.epochs ?? 4,
    batchSize: fields.batchSize ?? 8,
    learningRate: number(fields.learningRate, 'learningRate', 1e-4, (v) => v > 0 && v <= 1, 'must be greater than 0 and at most 1'),
    momentum: number(fields.momentum, 'momentum', 0.9, (v) => v >= 0 && v < 1, 'must be at least 0 and below 1'),
    weightDecay: number(fields.weightDecay, 'weightDecay', 0, (v) => v >= 0 && v <= 1, 'must be between 0 and 1'),
    trainable: fields.trainable ?? 'last-stage',
    holdout: number(fields.holdout, 'holdout', 0.2, (v) => v >= 0 && v < 1, 'must be at least 0 and below 1'),
    seed: fields.seed ?? randomSeed(),
  };
  if (imageCount > limits.maxImages) throw appError('too_many_images', { max: limits.maxImages, count: imageCount });
  const training = imageCount - Math.round(imageCount * settings.holdout);
  if (training < 1) throw invalidParameter(`holdout: ${settings.holdout} of ${imageCount} images leaves none to train on`);
  const budget = imageCount * settings.epochs * (settings.attackSteps + 1);
  if (budget > limits.maxBudget) {
    throw appError('budget_exceeded', { budget, max: limits.maxBudget });
  }
  return settings;
}
