/**
 * Latency over loopback, batch 1, the real server and the pig, sequential requests after
 * warm-up: POST /v1/classify and a 10-step attack (POST /v1/attacks with the defaults).
 * Prints median and p90 client-side and the server's own compute time.
 * Usage: npm run bench:http [-- CLASSIFY_N ATTACK_N]
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function main(): Promise<void> {
  const [classifyN, attackN] = [Number(process.argv[2] ?? 30), Number(process.argv[3] ?? 5)];
  const dataDir = process.env.ADVPROBE_TEST_DATA ?? path.join(__dirname, '..', '..', 'shared', 'data');
  const pig = readFileSync(path.join(dataDir, 'tutorial', 'pig.jpg'));
  const app = await buildApp({ config: loadConfig(), fastify: { logger: false } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    await app.model.whenReady();
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const post = async (route: string, fields: Record<string, string> = {}) => {
      const form = new FormData();
      form.append('image', new Blob([pig], { type: 'image/jpeg' }), 'pig.jpg');
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      const started = performance.now();
      const res = await fetch(base + route, { method: 'POST', body: form });
      const body = (await res.json()) as { timingMs: { compute: number } };
      if (!res.ok) throw new Error(JSON.stringify(body));
      return { latency: performance.now() - started, compute: body.timingMs.compute };
    };
    const measure = async (name: string, n: number, warmUp: number, once: () => ReturnType<typeof post>) => {
      for (let i = 0; i < warmUp; i++) await once();
      const samples = [];
      for (let i = 0; i < n; i++) samples.push(await once());
      const latency = samples.map((s) => s.latency).sort((a, b) => a - b);
      const compute = samples.map((s) => s.compute).sort((a, b) => a - b);
      console.log(`${name}: ${n} requests after ${warmUp} warm-up — latency ms p50 ${quantile(latency, 0.5).toFixed(0)}, p90 ${quantile(latency, 0.9).toFixed(0)}, min ${latency[0].toFixed(0)}; compute p50 ${quantile(compute, 0.5).toFixed(0)}`);
    };
    const backend = app.model.state.status === 'ready' ? app.model.state.info.backend : '?';
    console.log(`backend ${backend}, batch 1, loopback, sequential`);
    await measure('POST /v1/classify', classifyN, 3, () => post('/v1/classify'));
    await measure('POST /v1/attacks, 10-step sign PGD, ε = 2/255, images inline', attackN, 1, () => post('/v1/attacks', { seed: '1' }));
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
