import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './redis';
import { waitFor } from './wait';

const SERVER = path.join(__dirname, '..', '..', 'src', 'server.ts');

/** A real advprobe process (src/server.ts under tsx), with its own port and environment. */
export class ServerProcess {
  private stderr = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly name: string,
  ) {
    child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
    child.stdout?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static async start(name: string, env: Record<string, string>): Promise<ServerProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), SERVER], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ADVPROBE_RATE_LIMIT: '1000000', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServerProcess(child, `http://127.0.0.1:${port}`, name);
  }

  /** Waits until /readyz answers 200 (a worker: its model is loaded). */
  async ready(timeoutMs = 120_000): Promise<this> {
    try {
      await waitFor(async () => (await fetch(`${this.url}/readyz`).catch(() => null))?.status === 200, timeoutMs);
    } catch (err) {
      throw new Error(`${this.name} did not become ready: ${this.log}`, { cause: err });
    }
    return this;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What it printed (the last 20 kB), for failure messages. */
  get log(): string {
    return this.stderr;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }

  fetch(route: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.url}${route}`, init);
  }

  async json<T = Record<string, unknown>>(route: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await this.fetch(route, init);
    return { status: res.status, body: (await res.json()) as T, headers: res.headers };
  }
}
