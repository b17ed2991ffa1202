import path from 'node:path';
import type { SomeWorkerTask, WorkerProgram } from '../../runtime/worker-task';
import { attackKind } from './attack-kind';
import { classifyKind } from './classify-kind';
import { evaluationKind } from './evaluation-kind';
import { inferKind } from './infer-kind';
import type { JobKindRunner } from './job-kind';
import { trainingKind } from './training-kind';

/** Every job kind: the executor, the queue's lanes and the time limits loop over these. */
export const JOB_KINDS = {
  classify: classifyKind,
  infer: inferKind,
  attack: attackKind,
  evaluation: evaluationKind,
  training: trainingKind,
} as const satisfies Record<string, JobKindRunner>;

/**
 * What the model worker threads run: the kinds' tasks (besides the engine's own calls,
 * which every worker runs), registered by the thread entry from this same list.
 */
export const WORKER_PROGRAM: WorkerProgram = {
  tasks: Object.values(JOB_KINDS).flatMap((kind): readonly SomeWorkerTask[] => kind.tasks ?? []),
  entry: path.join(__dirname, '..', 'model-worker-thread'),
};
