import path from 'node:path';
import type { SomeWorkerTask, WorkerProgram } from '../../runtime/worker-task';
import { attackTask } from './attack-task';
import { trainingTask } from './training-task';

/**
 * The tasks job kinds run inside the model worker (besides the engine's own calls, which
 * every worker runs). The thread entry registers exactly these and imports nothing else of the
 * kinds, so a worker thread loads only what its tasks need.
 */
export const WORKER_TASKS: readonly SomeWorkerTask[] = [attackTask as SomeWorkerTask, trainingTask as SomeWorkerTask];

export const WORKER_PROGRAM: WorkerProgram = { tasks: WORKER_TASKS, entry: path.join(__dirname, '..', 'model-worker-thread') };
