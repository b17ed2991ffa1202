import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { waitFor } from './wait';

/**
 * A real Redis for the tests that are about Redis (never a mock). `.ci/run` starts one and
 * sets ADVPROBE_TEST_REDIS_URL; without it the tests start their own redis-server (Debian's
 * package) on a free loopback port. Each suite takes its own key prefix, so suites sharing
 * one Redis never see each other's jobs.
 */
export function sharedRedisUrl(): string | null {
  return process.env.ADVPROBE_TEST_REDIS_URL || null;
}

export const uniquePrefix = (): string => `test-${randomUUID().slice(0, 8)}`;

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A redis-server of this test's own, on a free port (or the given one, to restart it there). */
export class RedisProcess {
  private process: ChildProcess | null = null;
  constructor(readonly port: number) {}

  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!redisServerAvailable()) throw new Error('these tests need redis-server (Debian package redis-server) or ADVPROBE_TEST_REDIS_URL');
    this.process = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    await waitFor(() => canConnect(this.port), 10_000);
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = null;
  }
}

/** The shared Redis when CI gives one, else a redis-server of the caller's own. */
export async function testRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const shared = sharedRedisUrl();
  if (shared) return { url: shared, stop: async () => undefined };
  const own = await RedisProcess.start();
  return { url: own.url, stop: () => own.stop() };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
