import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { attackNamesText } from '../attacks/docs';
import { Prediction, Timing } from './classify';

const ClassReport = Type.Object({
  classIndex: Type.Integer(),
  label: Type.String(),
  originalProbability: Type.Number(),
  adversarialProbability: Type.Number({ description: 'on the float adversarial image' }),
  quantizedProbability: Type.Number({ description: 'on the returned 8-bit adversarial PNG' }),
});

const Norms = Type.Object({
  linf: Type.Number({ description: '‖δ‖∞ in pixel units of [0, 1]' }),
  l2: Type.Number({ description: '‖δ‖₂ in pixel units' }),
  linf255: Type.Number({ description: '‖δ‖∞ × 255 (grey levels)' }),
});

export const AttackSettingsEcho = Type.Object({
  attack: Type.String({ description: attackNamesText() }),
  mode: Type.String({ description: 'attack or minimal' }),
  norm: Type.String(),
  epsilon: Type.Number({ description: 'pixel units of [0, 1]; with mode=minimal, epsilonMax' }),
  epsilon255: Type.Number({ description: 'ε × 255' }),
  steps: Type.Integer({ description: 'gradient steps per run (apgd-t: per target; fgsm: 1; square: 0)' }),
  stepSize: Type.Number({ description: 'pgd, fgsm: α; the APGDs: their initial step 2ε; square: 0' }),
  optimizer: Type.String(),
  loss: Type.String({ description: 'the loss the attack maximised: ce, margin or dlr' }),
  randomStart: Type.Boolean(),
  restarts: Type.Integer(),
  earlyStop: Type.Boolean(),
  clamp: Type.Boolean(),
  seed: Type.Integer(),
  quantize: Type.String(),
  queries: Type.Integer({ description: 'square: forward passes per run; 0 for the other attacks' }),
  targets: Type.Integer({ description: 'apgd-t: classes it targeted in turn; 0 for the other attacks' }),
  targeted: Type.Boolean(),
  target: Type.Union([Type.String(), Type.Null()], { description: 'as requested' }),
  label: Type.Union([Type.String(), Type.Null()], { description: 'as requested; null: the clean top-1' }),
});

export const AttackImages = Type.Object({
  original: Type.String({ description: 'base64 PNG: the exact 224×224 model input' }),
  adversarial: Type.String({ description: 'base64 PNG: the 8-bit adversarial image' }),
  delta: Type.String({ description: 'base64 PNG: 128 + adversarial − original per channel' }),
  deltaVisual: Type.String({ description: 'base64 PNG: 50·δ + 0.5, as the tutorial shows it' }),
});

export const AttackResult = Type.Object(
  {
    id: Type.String(),
    status: Type.Literal('succeeded'),
    attack: AttackSettingsEcho,
    original: Type.Object({ predictions: Type.Array(Prediction) }),
    adversarial: Type.Object({
      predictions: Type.Array(Prediction),
      success: Type.Boolean(),
      range: Type.Tuple([Type.Number(), Type.Number()], { description: '[min, max] of x + δ before quantisation; outside [0, 1] only with clamp=false' }),
      quantized: Type.Object({
        predictions: Type.Array(Prediction),
        success: Type.Boolean({ description: 'still adversarial once saved as 8-bit PNG' }),
        refineSteps: Type.Integer({ description: 'grid steps taken because rounding undid the attack' }),
      }),
    }),
    trueClass: ClassReport,
    targetClass: Type.Union([ClassReport, Type.Null()]),
    perturbation: Type.Object({
      ...Norms.properties,
      quantized: Norms,
      deltaPngExact: Type.Boolean({ description: 'delta.png rebuilds the adversarial image exactly (false only for ε > 127/255)' }),
    }),
    minimalEpsilon: Type.Optional(
      Type.Union([Type.Number(), Type.Null()], {
        description: 'mode=minimal: the smallest ε (pixel units) at which the attack succeeded — the returned adversarial image is that attack; null if even epsilonMax failed',
      }),
    ),
    minimalEpsilon255: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'minimalEpsilon × 255' })),
    lowerBound: Type.Optional(Type.Number({ description: 'mode=minimal: the largest ε tried that failed (0 if none did), pixel units' })),
    lowerBound255: Type.Optional(Type.Number({ description: 'lowerBound × 255' })),
    search: Type.Optional(
      Type.Object(
        {
          epsilonMax: Type.Number(),
          tolerance: Type.Number(),
          probes: Type.Array(Type.Object({ epsilon: Type.Number(), success: Type.Boolean() }), { description: 'every radius tried, in order' }),
        },
        { description: 'mode=minimal: how the search went' },
      ),
    ),
    calls: Type.Object(
      {
        forward: Type.Integer({ description: 'forward passes (square: its queries)' }),
        gradient: Type.Integer({ description: 'forward-and-backward passes' }),
      },
      { description: 'what the attack\'s own runs took (restarts and probes included; not the clean pass, the 8-bit re-check or refineSteps)' },
    ),
    losses: Type.Array(Type.Object({ step: Type.Integer(), loss: Type.Number() }), {
      description: 'the minimised objective at each step, as the tutorial prints it (−CE untargeted; CE(target) − CE(true) targeted)',
    }),
    images: Type.Optional(AttackImages),
    timingMs: Timing,
  },
  { description: 'The outcome of an attack' },
);
export type AttackResult = Static<typeof AttackResult>;

export const JobStatusSchema = Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)));

export const JobProgressSchema = Type.Object({
  step: Type.Integer(),
  steps: Type.Integer(),
  loss: Type.Number({ description: 'the minimised objective at this step' }),
  trueProbability: Type.Number({ description: 'probability of the true class at this step' }),
  targetProbability: Type.Union([Type.Number(), Type.Null()], { description: 'probability of the target at this step; null untargeted' }),
  epsilon: Type.Number({ description: 'the radius of this step (changes between the probes of mode=minimal)' }),
});

/** The view of a job of one kind (GET): its status and times, its kind's progress, and its result or error once done. */
export const jobViewSchema = <P extends TSchema, R extends TSchema>(progress: P, result: R) =>
  Type.Object({
    id: Type.String(),
    status: JobStatusSchema,
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    progress: Type.Union([progress, Type.Null()]),
    result: Type.Optional(result),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  });

export const JobView = jobViewSchema(JobProgressSchema, AttackResult);

export const JobAccepted = Type.Object({
  id: Type.String(),
  status: JobStatusSchema,
  location: Type.String({ description: 'the job: GET it, GET …/events, DELETE it' }),
});

export const JobIdParams = Type.Object({ id: Type.String({ description: 'job id' }) });
