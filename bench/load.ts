/**
 * Load test over loopback, bounded in time: mixed classify (autocannon at a fixed rate) and
 * asynchronous 2-step attacks for DURATION seconds at about twice what the service can do.
 * Prints throughput, latency, how overflow was answered (503/429 and Retry-After), RSS and
 * worker tensors over time (from /metrics), and checks every accepted job reached a final
 * state. Usage: npm run load [-- DURATION_S CLASSIFY_RATE]
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const duration = Number(process.argv[2] ?? 60);
  const classifyRate = Number(process.argv[3] ?? 6); // ≈ 2× the ≈ 3 classifications/s one wasm worker does
  const dataDir = process.env.ADVPROBE_TEST_DATA ?? path.join(__dirname, '..', '..', 'shared', 'data');
  const pigPath = path.join(dataDir, 'tutorial', 'pig.jpg');
  const pig = readFileSync(pigPath);
  const app = await buildApp({ config: loadConfig({ ...process.env, ADVPROBE_QUEUE_SIZE: process.env.ADVPROBE_QUEUE_SIZE ?? '8', ADVPROBE_RATE_LIMIT: '100000' }), fastify: { logger: false } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  try {
    await app.model.whenReady();
    const sample = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return { rss: value('advprobe_process_resident_memory_bytes'), tensors: value('advprobe_model_tensors') };
    };
    const samples: { t: number; rss: number; tensors: number }[] = [];
    const started = Date.now();
    const sampler = setInterval(() => void sample().then((s) => samples.push({ t: (Date.now() - started) / 1000, ...s })), 5000);

    // Attacks: one async 2-step attack submitted every 1.5 s, alongside the classify load.
    const accepted: string[] = [];
    const refused: Record<string, number> = {};
    let refusalsWithoutRetryAfter = 0;
    const attacks = (async () => {
      while (Date.now() - started < duration * 1000) {
        const form = new FormData();
        form.append('image', new Blob([new Uint8Array(pig)], { type: 'image/jpeg' }), 'pig.jpg');
        form.append('steps', '2');
        form.append('images', 'none');
        form.append('quantize', 'round');
        const res = await fetch(`${base}/v1/attacks`, { method: 'POST', body: form, headers: { prefer: 'respond-async' } });
        if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
        else {
          refused[res.status] = (refused[res.status] ?? 0) + 1;
          if (!res.headers.get('retry-after')) refusalsWithoutRetryAfter++;
          await res.arrayBuffer();
        }
        await sleep(1500);
      }
    })();

    const classify = await autocannon({
      url: `${base}/v1/classify`,
      method: 'POST',
      form: { image: { type: 'file', path: pigPath } },
      connections: 16,
      overallRate: classifyRate,
      duration,
    });
    await attacks;
    clearInterval(sampler);

    // Every accepted job must end: succeeded, failed or cancelled — none lost.
    const final = new Map<string, number>();
    for (const id of accepted) {
      for (;;) {
        const job = (await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { status: string };
        if (['succeeded', 'failed', 'cancelled'].includes(job.status)) {
          final.set(job.status, (final.get(job.status) ?? 0) + 1);
          break;
        }
        await sleep(200);
      }
    }
    const after = await sample();
    const steady = samples.filter((s) => s.t >= 15);
    const spread = (key: 'rss' | 'tensors') => {
      const values = [...steady.map((s) => s[key]), after[key]];
      return (Math.max(...values) - Math.min(...values)) / Math.min(...values);
    };
    const statuses = Object.fromEntries(Object.entries(classify.statusCodeStats ?? {}).map(([k, v]) => [k, (v as { count: number }).count]));
    console.log(`load: ${duration} s on loopback, backend ${app.model.state.status === 'ready' ? app.model.state.info.backend : '?'}, queue size ${process.env.ADVPROBE_QUEUE_SIZE ?? 8}`);
    console.log(`classify offered ${classifyRate}/s: ${classify.requests.total} requests, ${(classify.requests.average ?? 0).toFixed(1)} req/s answered, statuses ${JSON.stringify(statuses)}, errors ${classify.errors}, timeouts ${classify.timeouts}`);
    console.log(`classify latency ms: p50 ${classify.latency.p50}, p99 ${classify.latency.p99}, max ${classify.latency.max}`);
    console.log(`attacks: ${accepted.length} accepted, refused ${JSON.stringify(refused)} (${refusalsWithoutRetryAfter} without Retry-After); final states ${JSON.stringify(Object.fromEntries(final))}`);
    console.log(`RSS MB over time: ${samples.map((s) => `${s.t.toFixed(0)}s ${(s.rss / 2 ** 20).toFixed(0)}`).join(', ')}; after ${(after.rss / 2 ** 20).toFixed(0)}`);
    console.log(`worker tensors over time: ${samples.map((s) => s.tensors).join(', ')}; after ${after.tensors}`);
    console.log(`after warm-up (t ≥ 15 s): RSS spread ${(spread('rss') * 100).toFixed(1)}%, tensor spread ${(spread('tensors') * 100).toFixed(1)}% (bar: 10%)`);
    console.log(`server alive: /healthz ${(await fetch(`${base}/healthz`)).status}`);
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
