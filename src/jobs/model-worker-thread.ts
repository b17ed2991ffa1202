/** Entry of a model worker thread: the runtime's worker, running the job kinds' tasks. */
import { serveModelWorker } from '../runtime/worker-thread';
import { WORKER_PROGRAM } from './kinds';

serveModelWorker(WORKER_PROGRAM.tasks);
