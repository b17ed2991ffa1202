import type { JobKind } from '../job-record';
import { attackKind } from './attack-kind';
import { classifyKind } from './classify-kind';
import { evaluationKind } from './evaluation-kind';
import { inferKind } from './infer-kind';
import type { JobKindRunner } from './job-kind';
import { trainingKind } from './training-kind';

/** Every job kind a model worker runs. */
export const JOB_KINDS: Record<JobKind, JobKindRunner> = {
  classify: classifyKind,
  infer: inferKind,
  attack: attackKind,
  evaluation: evaluationKind,
  training: trainingKind,
};
