import { MemoryWorkQueue } from '../../../src/jobs/memory/memory-work-queue';
import { workQueueContract } from '../../helpers/work-queue-contract';

workQueueContract('memory', async (maxWaiting) => new MemoryWorkQueue({ maxWaiting, retryAfterSeconds: 5 }));
