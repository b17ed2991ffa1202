import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JobEvent, JobRecord } from '../jobs/job-record';
import type { JobStore } from '../jobs/job-store';
import { appError } from '../errors';

const expired = (): { code: string; message: string } => {
  const { code, message } = appError('job_not_found', { detail: 'the job expired' });
  return { code, message };
};

/** The JSON view of any job: status, times, progress, and its result or error once done. */
export function jobView(job: JobRecord) {
  return {
    id: job.id,
    status: job.status,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    progress: job.progress as never,
    ...(job.result ? { result: job.result as never } : {}),
    ...(job.error ? { error: { code: job.error.code, message: job.error.message } } : {}),
  };
}

/**
 * Streams a job as server-sent events: `status` first, a `progress` event per step, then
 * `result`, `error` or `cancelled`, and the stream ends with the job. Every event after
 * `status` carries its id (the job's event sequence number): a client that reconnects with
 * `Last-Event-ID` gets exactly the events it missed. The events come from the store, so
 * this process need not be the one that runs the job. A comment line every `heartbeatMs`
 * keeps proxies from closing a quiet stream.
 */
export async function streamJobEvents(store: JobStore, job: JobRecord, request: FastifyRequest, reply: FastifyReply, heartbeatMs: number): Promise<void> {
  const lastSeen = Number(request.headers['last-event-id']);
  let sent = Number.isInteger(lastSeen) && lastSeen > 0 ? lastSeen : 0;
  const live: JobEvent[] = [];
  let deliver: ((event: JobEvent) => void) | null = null;
  // Subscribed before reading the log, so nothing falls between the two.
  const unsubscribe = await store.subscribe(job.id, (event) => (deliver ? deliver(event) : live.push(event)));
  const missed = await store.events(job.id, sent).catch((err: unknown) => {
    unsubscribe();
    throw err;
  });

  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const write = (event: string, data: unknown, id?: number): boolean => raw.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  // Each heartbeat also reads the log for events a subscriber may have missed (Redis away a moment).
  const heartbeat = setInterval(() => {
    raw.write(': heartbeat\n\n');
    void store.events(job.id, sent).then((events) => events.forEach(send), () => undefined);
  }, heartbeatMs);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    untrack();
    raw.end();
  };
  // On shutdown: the events the log holds (the end, if the drain ended the job), then close.
  const untrack = request.server.lifecycle.track({
    end: async () => {
      (await store.events(job.id, sent).catch(() => [])).forEach(send);
      await chain;
      if (!closed) raw.write(': the server is stopping; reconnect with Last-Event-ID\n\n');
      close();
    },
  });
  raw.on('close', close);

  let chain = Promise.resolve();
  const send = (event: JobEvent): void => {
    if (event.seq <= sent || closed) return;
    sent = event.seq;
    if (event.type === 'progress') return void write('progress', event.data, event.seq);
    // The end: the final record holds the result or the error.
    chain = chain.then(async () => {
      const final = await store.find(job.id).catch(() => null);
      if (!final) write('error', { id: job.id, error: expired() }, event.seq);
      else if (final.status === 'succeeded') write('result', final.result, event.seq);
      else write(final.status === 'cancelled' ? 'cancelled' : 'error', { id: job.id, error: final.error }, event.seq);
      close();
    });
  };

  write('status', { id: job.id, status: job.status, progress: job.progress });
  for (const event of [...missed, ...live.splice(0)]) send(event);
  // A client that already had the end (its Last-Event-ID) gets the outcome again, not a stream that never ends.
  if (job.finishedAt !== null && !closed && sent > 0 && !missed.some((e) => e.type === 'end')) send({ seq: sent + 1, type: 'end', data: { status: job.status } });
  deliver = send;
}
