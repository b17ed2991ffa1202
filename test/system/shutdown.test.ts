import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { PIG, readTestFile } from '../helpers/data';
import { freePort, testRedis, uniquePrefix } from '../helpers/redis';
import { waitFor } from '../helpers/wait';

/**
 * SIGTERM on real server processes (tiny-server.ts: the server's own start and stop over a
 * tiny engine whose model calls take TINY_STEP_MS), with clients holding connections open:
 * event streams, a half-sent upload, an idle keep-alive socket. Whatever they hold, the
 * process answers the documented errors while it stops and exits 0 within the grace.
 */
const pig = readTestFile(...PIG);
const ENTRY = path.join(__dirname, 'tiny-server.ts');
const GRACE_MS = 3000;

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  log: () => string;
}

async function start(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), ENTRY], {
    // Overload is not the point: a loaded test host must not turn the submissions into 503 overloaded.
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ADVPROBE_RATE_LIMIT: '1000000', ADVPROBE_MAX_EVENT_LOOP_DELAY_MS: '0', ADVPROBE_SHUTDOWN_GRACE_MS: String(GRACE_MS), TINY_STEP_MS: '50', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200, 60_000);
  return { child, url, exited, log: () => log };
}

function attackForm(steps: number): FormData {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(pig)], { type: 'image/jpeg' }), 'pig.jpg');
  form.append('steps', String(steps));
  form.append('images', 'none');
  return form;
}

async function submit(server: Server, steps: number): Promise<string> {
  const res = await fetch(`${server.url}/v1/attacks`, { method: 'POST', body: attackForm(steps), headers: { prefer: 'respond-async' } });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/** The whole event stream of a job, as text, once the server closes it. */
const stream = (server: Server, id: string): Promise<string> => fetch(`${server.url}/v1/jobs/${id}/events`).then((r) => r.text());

/** Sockets a client leaves open: a multipart upload cut short and an idle keep-alive one. Resolves each when the server closes it. */
function holdSockets(server: Server): Promise<void>[] {
  const { port } = new URL(server.url);
  const half = net.connect(Number(port), '127.0.0.1');
  half.write('POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nxxxx');
  const idle = net.connect(Number(port), '127.0.0.1');
  idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  return [half, idle].map((socket) => {
    socket.on('data', () => undefined).on('error', () => undefined);
    return new Promise<void>((resolve) => socket.on('close', () => resolve()));
  });
}

/** The exit code, or 'still running' after the grace and 5 s more (the old stop could hang for good). */
const exitCode = (server: Server): Promise<number | null | 'still running'> =>
  Promise.race([server.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), GRACE_MS + 5000).unref())]);

/** What the process answers at once after SIGTERM: readiness off, new work refused with the coded error. */
async function expectStoppingAnswers(server: Server): Promise<void> {
  const ready = await fetch(`${server.url}/readyz`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { status: string }).status).toBe('shutting_down');
  expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(503);
  // A body of some megabytes, still arriving when the gate answers: the 503 must reach the client, not EPIPE.
  const upload = attackForm(1);
  upload.append('padding', new Blob([new Uint8Array(4 << 20)]), 'padding.bin');
  const refused = await fetch(`${server.url}/v1/classify`, { method: 'POST', body: upload });
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('5');
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
}

describe('SIGTERM with connections held open', () => {
  let server: Server | undefined;
  afterEach(() => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
    server = undefined;
  });

  it('embedded: a short job ends succeeded, a long one shutting_down; streams get those ends; exit 0 within the grace', async () => {
    server = await start({});
    const [short, long] = [await submit(server, 2), await submit(server, 1000)];
    const [shortEvents, longEvents] = [stream(server, short), stream(server, long)];
    const held = holdSockets(server);
    await new Promise((r) => setTimeout(r, 300)); // the streams and sockets are open
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    await expectStoppingAnswers(server);

    const code = await exitCode(server);
    const seconds = (Date.now() - signalled) / 1000;
    expect({ code, log: code === 0 ? '' : server.log() }).toEqual({ code: 0, log: '' });
    expect(seconds).toBeLessThan(GRACE_MS / 1000 + 1); // the signal and the exit's notice, on a loaded host
    expect(await shortEvents).toMatch(/event: result\n/);
    expect(await longEvents).toMatch(/event: error\ndata: .*"code":"shutting_down"/);
    await Promise.all(held);
  });

  it('API process over Redis: a stream of a job no worker takes does not hold it; exit 0 within the grace', async () => {
    const redis = await testRedis();
    try {
      server = await start({ ADVPROBE_REDIS_URL: redis.url, ADVPROBE_REDIS_PREFIX: uniquePrefix(), ADVPROBE_ROLE: 'api' });
      const queued = await submit(server, 1); // no worker: it stays queued in Redis
      const events = stream(server, queued);
      const held = holdSockets(server);
      await new Promise((r) => setTimeout(r, 300));
      const signalled = Date.now();
      server.child.kill('SIGTERM'); // nothing runs here: it stops at once

      const code = await exitCode(server);
      expect({ code, log: code === 0 ? '' : server.log() }).toEqual({ code: 0, log: '' });
      expect((Date.now() - signalled) / 1000).toBeLessThan(GRACE_MS / 1000 + 1);
      // The stream closed without an end: the client reconnects (Last-Event-ID) to another API process.
      expect(await events).toMatch(/^event: status\n/);
      await Promise.all(held);
    } finally {
      await redis.stop();
    }
  });
});
