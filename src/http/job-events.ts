import type { FastifyReply } from 'fastify';
import type { Job } from '../jobs/job-store';

const iso = (d?: Date): string | null => (d ? d.toISOString() : null);

/** The JSON view of any job: status, times, progress, and its result or error once done. */
export function jobView<R, D, P>(job: Job<R, D, P>) {
  return {
    id: job.id,
    status: job.status,
    createdAt: job.createdAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    progress: job.progress,
    ...(job.result ? { result: job.result } : {}),
    ...(job.error ? { error: { code: job.error.code, message: job.error.message } } : {}),
  };
}

/**
 * Streams a job as server-sent events: `status` first, `progress` as it comes, then
 * `result`, `error` or `cancelled`, and the stream ends with the job.
 */
export function streamJobEvents<R, D, P>(job: Job<R, D, P>, reply: FastifyReply): void {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const send = (event: string, data: unknown): boolean => raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const finish = (): void => {
    if (job.status === 'succeeded') send('result', job.result);
    else if (job.status === 'cancelled') send('cancelled', { id: job.id, error: job.error });
    else send('error', { id: job.id, error: job.error });
    raw.end();
  };
  send('status', { id: job.id, status: job.status, progress: job.progress });
  if (job.finished) return finish();
  const onProgress = (progress: P): void => void send('progress', progress);
  job.events.on('progress', onProgress);
  job.events.once('end', finish);
  raw.on('close', () => {
    job.events.off('progress', onProgress);
    job.events.off('end', finish);
  });
}
