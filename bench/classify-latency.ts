/**
 * Latency of POST /v1/classify at batch 1 over loopback: the real server, the pig, sequential
 * requests after warm-up. Prints median and p90 of the client-side latency and the server's
 * own queue/compute split. Usage: npm run bench:classify [-- N]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 30);
  const dataDir = process.env.ADVPROBE_TEST_DATA ?? path.join(__dirname, '..', '..', 'shared', 'data');
  const pig = readFileSync(path.join(dataDir, 'tutorial', 'pig.jpg'));
  const app = await buildApp({ config: loadConfig(), fastify: { logger: false } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    while (app.model.state.status !== 'ready') {
      if (app.model.state.status === 'failed') throw new Error(app.model.state.message);
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/classify`;
    const once = async () => {
      const form = new FormData();
      form.append('image', new Blob([pig], { type: 'image/jpeg' }), 'pig.jpg');
      const started = performance.now();
      const res = await fetch(url, { method: 'POST', body: form });
      const body = (await res.json()) as { timingMs: { compute: number } };
      if (!res.ok) throw new Error(JSON.stringify(body));
      return { latency: performance.now() - started, compute: body.timingMs.compute };
    };
    for (let i = 0; i < 3; i++) await once();
    const samples = [];
    for (let i = 0; i < n; i++) samples.push(await once());
    const latency = samples.map((s) => s.latency).sort((a, b) => a - b);
    const compute = samples.map((s) => s.compute).sort((a, b) => a - b);
    const backend = app.model.state.status === 'ready' ? app.model.state.info.backend : '?';
    console.log(`POST /v1/classify, batch 1, backend ${backend}, ${n} sequential requests after 3 warm-up`);
    console.log(`latency ms: p50 ${quantile(latency, 0.5).toFixed(0)}  p90 ${quantile(latency, 0.9).toFixed(0)}  min ${latency[0].toFixed(0)}`);
    console.log(`compute ms (in the model worker): p50 ${quantile(compute, 0.5).toFixed(0)}`);
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
