/** Entry of a model worker thread: the runtime's worker, running the job kinds' tasks. */
import { serveModelWorker } from '../runtime/worker-thread';
import { WORKER_TASKS } from './kinds/worker-tasks';

serveModelWorker(WORKER_TASKS);
