/**
 * npm run bench:distributed — the distributed mode's figures, one run, this machine:
 * 1. classify latency (p50/p99), embedded (one process) against distributed (1 API + 1
 *    worker over Redis), the same raw-body request, blocks of consecutive calls alternating;
 * 2. 10-step attacks/s with 1 and with 2 worker processes, ONNX Runtime one thread each
 *    (ADVPROBE_MAX_BATCH=1, so the figure is the processes', not batching's), alternating;
 * 3. 60 s of async attacks at about twice that capacity against 1 API + 2 workers: accepted
 *    and refused, every accepted job's final state, the RSS of every process over the run;
 * 4. Redis memory per finished attack job, with and without inline images.
 * Processes are real (src/server.ts under tsx), Redis is a redis-server of its own.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { ServerProcess } from '../test/helpers/processes';
import { RedisProcess } from '../test/helpers/redis';
import { median, PIG_PATH } from './support';

const pig = readFileSync(PIG_PATH);
const WORKER = { ADVPROBE_ROLE: 'worker', ADVPROBE_BACKEND: 'onnxruntime', ADVPROBE_ENGINE_THREADS: '1', ADVPROBE_MAX_BATCH: '1' };
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];

const started: ServerProcess[] = [];
async function start(name: string, env: Record<string, string>): Promise<ServerProcess> {
  const proc = await ServerProcess.start(name, { ADVPROBE_QUEUE_SIZE: '32', ...env });
  started.push(proc);
  return proc.ready();
}

async function classifyOnce(proc: ServerProcess): Promise<number> {
  const begun = performance.now();
  const res = await proc.fetch('/v1/classify', { method: 'POST', body: new Uint8Array(pig), headers: { 'content-type': 'image/jpeg' } });
  if (res.status !== 200) throw new Error(`classify answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  return performance.now() - begun;
}

async function submitAttack(api: ServerProcess, images: 'none' | 'inline' = 'none'): Promise<{ status: number; id?: string }> {
  const res = await api.fetch(`/v1/attacks?steps=10&seed=1&images=${images}&quantize=round`, { method: 'POST', body: new Uint8Array(pig), headers: { 'content-type': 'image/jpeg', prefer: 'respond-async' } });
  const body = (await res.json()) as { id?: string };
  return { status: res.status, id: body.id };
}

async function waitFinal(api: ServerProcess, ids: string[], timeoutMs = 600_000): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  const statuses: Record<string, string> = {};
  while (Date.now() < deadline) {
    for (const id of ids) {
      if (statuses[id] && !['queued', 'running'].includes(statuses[id])) continue;
      statuses[id] = ((await (await api.fetch(`/v1/jobs/${id}`)).json()) as { status: string }).status;
    }
    if (ids.every((id) => !['queued', 'running'].includes(statuses[id]))) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const counts: Record<string, number> = {};
  for (const id of ids) counts[statuses[id] ?? 'unknown'] = (counts[statuses[id] ?? 'unknown'] ?? 0) + 1;
  return counts;
}

function rssMb(proc: ServerProcess): number {
  const status = readFileSync(`/proc/${proc.child.pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024;
}

async function attacksPerSecond(api: ServerProcess, jobs: number): Promise<number> {
  const begun = performance.now();
  const ids = await Promise.all(Array.from({ length: jobs }, async () => (await submitAttack(api)).id!));
  const counts = await waitFinal(api, ids);
  if (counts.succeeded !== jobs) throw new Error(`not every attack succeeded: ${JSON.stringify(counts)}`);
  return jobs / ((performance.now() - begun) / 1000);
}

async function main(): Promise<void> {
  const redis = await RedisProcess.start();
  const client = new Redis(redis.url);
  try {
    // 1. Classify latency, embedded vs distributed.
    const embedded = await start('embedded', { ADVPROBE_BACKEND: 'onnxruntime' });
    const dist = { ADVPROBE_REDIS_URL: redis.url, ADVPROBE_REDIS_PREFIX: 'bench-latency' };
    const latencyApi = await start('api', { ...dist, ADVPROBE_ROLE: 'api' });
    const latencyWorker = await start('worker', { ...dist, ADVPROBE_ROLE: 'worker', ADVPROBE_BACKEND: 'onnxruntime' });
    const times: Record<'embedded' | 'distributed', number[]> = { embedded: [], distributed: [] };
    for (const proc of [embedded, latencyApi]) for (let i = 0; i < 5; i++) await classifyOnce(proc); // warm-up
    for (let block = 0; block < 6; block++) {
      for (const [name, proc] of [['embedded', embedded], ['distributed', latencyApi]] as const) for (let i = 0; i < 10; i++) times[name].push(await classifyOnce(proc));
    }
    console.log('\n1. classify latency, ms (60 calls each, blocks of 10 alternating)');
    for (const [name, values] of Object.entries(times)) console.log(`   ${name.padEnd(12)} p50 ${round(median(values))}  p99 ${round(percentile(values, 99))}`);
    console.log(`   the hop through Redis adds ${round(median(times.distributed) - median(times.embedded))} ms at p50`);
    await Promise.all([embedded.kill(), latencyApi.kill(), latencyWorker.kill()]);

    // 2. Attack throughput, 1 vs 2 worker processes. The queue bound (16) is met in part 3.
    const env = { ADVPROBE_REDIS_URL: redis.url, ADVPROBE_REDIS_PREFIX: 'bench-throughput' };
    const api = await start('api', { ...env, ADVPROBE_ROLE: 'api', ADVPROBE_QUEUE_SIZE: '16' });
    const workerA = await start('worker-a', { ...env, ...WORKER });
    let workerB: ServerProcess | null = null;
    await attacksPerSecond(api, 2); // warm-up
    const rates: Record<1 | 2, number[]> = { 1: [], 2: [] };
    for (let round_ = 0; round_ < 2; round_++) {
      rates[1].push(await attacksPerSecond(api, 8));
      workerB = await start('worker-b', { ...env, ...WORKER });
      await attacksPerSecond(api, 2); // its warm-up
      rates[2].push(await attacksPerSecond(api, 8));
      if (round_ === 0) {
        await workerB.kill('SIGTERM');
        workerB = null;
      }
    }
    const one = median(rates[1]);
    const two = median(rates[2]);
    console.log('\n2. 10-step attacks/s (8 at once, ONNX Runtime 1 thread per worker, ADVPROBE_MAX_BATCH=1; median of 2 rounds)');
    console.log(`   1 worker ${round(one, 3)}   2 workers ${round(two, 3)}   ratio ${round(two / one, 2)}×   (rounds: ${rates[1].map((r) => round(r, 3))} / ${rates[2].map((r) => round(r, 3))})`);

    // 3. 60 s at about twice capacity against 1 API + 2 workers.
    const rate = 2 * two;
    const processes = [api, workerA, workerB!];
    const rss: number[][] = processes.map(() => []);
    const accepted: string[] = [];
    const refused: Record<number, number> = {};
    const begun = Date.now();
    let next = begun;
    const sampler = setInterval(() => processes.forEach((p, i) => rss[i].push(rssMb(p))), 5_000);
    const inflight: Promise<void>[] = [];
    while (Date.now() - begun < 60_000) {
      inflight.push(
        submitAttack(api).then(({ status, id }) => {
          if (status === 202 && id) accepted.push(id);
          else refused[status] = (refused[status] ?? 0) + 1;
        }),
      );
      next += 1000 / rate;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    await Promise.all(inflight);
    const finals = await waitFinal(api, accepted);
    clearInterval(sampler);
    processes.forEach((p, i) => rss[i].push(rssMb(p)));
    console.log(`\n3. 60 s of async 10-step attacks at ${round(rate, 2)}/s (≈ 2× capacity) against 1 API + 2 workers`);
    console.log(`   submitted ${accepted.length + Object.values(refused).reduce((a, b) => a + b, 0)}, accepted ${accepted.length}, refused ${JSON.stringify(refused)}`);
    console.log(`   final states of the accepted: ${JSON.stringify(finals)}  (lost: ${accepted.length - Object.values(finals).reduce((a, b) => a + b, 0) + (finals.unknown ?? 0)})`);
    processes.forEach((p, i) => {
      const steady = rss[i].slice(2); // after the first 10 s
      const [low, high] = [Math.min(...steady), Math.max(...steady)];
      console.log(`   RSS ${p.name.padEnd(9)} ${rss[i].map((r) => Math.round(r)).join(' ')} MB; after 10 s ${Math.round(low)}–${Math.round(high)} MB (${round(((high - low) / low) * 100)} %)`);
    });

    // 4. Redis memory per finished attack job.
    console.log('\n4. Redis memory per finished attack job (MEMORY USAGE … SAMPLES 0 of its hash and event list: record, result, the two images’ pixels, events)');
    for (const images of ['none', 'inline'] as const) {
      const ids = (await Promise.all(Array.from({ length: 4 }, () => submitAttack(api, images)))).map((r) => r.id!);
      await waitFinal(api, ids);
      const bytes = await Promise.all(ids.map(async (id) => ((await client.memory('USAGE', `bench-throughput:job:${id}`, 'SAMPLES', 0)) ?? 0) + ((await client.memory('USAGE', `bench-throughput:job:${id}:events`, 'SAMPLES', 0)) ?? 0)));
      console.log(`   images=${images.padEnd(6)} ${round(median(bytes) / 1024)} KiB per job`);
    }
  } finally {
    client.disconnect();
    await Promise.all(started.map((p) => p.kill()));
    await redis.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
