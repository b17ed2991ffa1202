/**
 * `npm run bench`: ResNet50 forward and forward+input-gradient step, at batch 1 and 8, for
 * the PyTorch reference (Debian's python3-torch, installed by bench/setup-pytorch.sh; skipped
 * with a message when it cannot be) and every advprobe backend that loads on this host,
 * side by side in one run. Each measurement is a block: a contender's own warm-up at that
 * shape, then BENCH_CALLS (10) consecutive calls timed inside it; the contenders take turns
 * block by block, BLOCKS times (3), and the medians of the blocks' means per call are
 * printed with their ratio to PyTorch. (Single cold calls, alternating call by call, woke
 * PyTorch's sleeping thread pool each time and inflated its figures by up to 60 %.)
 * Usage: npm run bench [-- BLOCKS]
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { BACKENDS } from '../src/model/engine';
import { LAYERS_REFERENCE, type BenchContender, type BenchReply, type BenchRequest } from './engine-protocol';

type Measure = (request: BenchRequest) => Promise<number>;
interface Contender {
  name: string;
  measure: Measure;
  close(): void;
}

const BATCHES = [1, 8];
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function startPytorch(threads: number): Promise<Contender | string> {
  const setup = spawnSync('bash', [path.join(__dirname, 'setup-pytorch.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (setup.status !== 0) return 'PyTorch could not be installed (bench/setup-pytorch.sh failed)';
  const child = spawn('/usr/bin/python3', [path.join(__dirname, 'pytorch_reference.py'), String(threads)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => JSON.parse(String((await lines.next()).value)) as Record<string, unknown>;
  const hello = await next();
  console.log(`pytorch ${String(hello.torch)}, ${String(hello.threads)} threads`);
  return {
    name: 'pytorch',
    measure: async ({ what, batch, calls, warmup }) => {
      child.stdin.write(`${what} ${batch} ${calls} ${warmup}\n`);
      return Number((await next()).ms);
    },
    close: () => child.kill(),
  };
}

async function startEngine(modelsDir: string, backend: BenchContender): Promise<Contender | string> {
  const worker = new Worker(path.join(__dirname, 'engine-worker.ts'), { workerData: { modelsDir, backend }, execArgv: ['--require', require.resolve('tsx/cjs')] });
  const reply = (): Promise<BenchReply> =>
    new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      worker.once('error', onError);
      worker.once('message', (message: BenchReply) => {
        worker.off('error', onError);
        resolve(message);
      });
    });
  const first = await reply();
  if ('failed' in first) {
    await worker.terminate();
    return first.failed;
  }
  if ('ready' in first) console.log(`${backend}: loaded and warmed up in ${(first.loadMs / 1000).toFixed(1)} s`);
  return {
    name: backend,
    measure: async (request) => {
      worker.postMessage(request);
      const r = await reply();
      if (!('ms' in r)) throw new Error(`${backend}: unexpected reply ${JSON.stringify(r)}`);
      return r.ms;
    },
    close: () => void worker.terminate(),
  };
}

async function main(): Promise<void> {
  const repetitions = Number(process.argv[2] ?? 3);
  const calls = Number(process.env.BENCH_CALLS ?? 10);
  const warmup = Number(process.env.BENCH_WARMUP ?? 3);
  const threads = Number(process.env.BENCH_THREADS ?? 2);
  const { ADVPROBE_MODELS_DIR: modelsDir } = loadConfig();
  const contenders: Contender[] = [];
  // Every backend that loads here, and TensorFlow.js's own layers model on wasm (the reference).
  const engines: BenchContender[] = [...BACKENDS.filter((b) => b !== 'cpu'), LAYERS_REFERENCE];
  const started = [startPytorch(threads), ...engines.map((b) => startEngine(modelsDir, b))];
  for (const [i, c] of (await Promise.all(started)).entries()) {
    const name = i === 0 ? 'pytorch' : engines[i - 1];
    if (typeof c === 'string') console.log(`${name}: skipped (${c})`);
    else contenders.push(c);
  }

  // samples[contender][what][batch] = ms per call
  const samples = new Map<string, Map<string, number[]>>(contenders.map((c) => [c.name, new Map()]));
  const key = (what: string, batch: number) => `${what}@${batch}`;
  for (const batch of BATCHES) {
    for (const what of ['forward', 'step'] as const) {
      for (let r = 0; r < repetitions; r++) {
        for (const c of contenders) {
          const ms = await c.measure({ what, batch, calls, warmup });
          const list = samples.get(c.name)!;
          list.set(key(what, batch), [...(list.get(key(what, batch)) ?? []), ms]);
        }
      }
    }
  }
  contenders.filter((c) => c.name !== 'pytorch').forEach((c) => c.close());

  const reference = samples.get('pytorch');
  console.log(`\nResNet50, steady state: median of ${repetitions} alternating blocks of ${calls} consecutive calls (after ${warmup} warm-up calls each), ms per call (per image in brackets); × = ratio to PyTorch`);
  console.log(['engine', ...BATCHES.flatMap((b) => [`forward b${b}`, `step b${b}`])].map((s) => s.padEnd(22)).join(''));
  for (const c of contenders) {
    const cells = BATCHES.flatMap((batch) =>
      (['forward', 'step'] as const).map((what) => {
        const ms = median(samples.get(c.name)!.get(key(what, batch))!);
        const ref = reference ? median(reference.get(key(what, batch))!) : undefined;
        if (Number.isNaN(ms)) return '—';
        const perImage = batch > 1 ? ` (${(ms / batch).toFixed(0)})` : '';
        return `${ms.toFixed(0)}${perImage}${ref ? ` ${(ms / ref).toFixed(2)}×` : ''}`;
      }),
    );
    console.log([c.name, ...cells].map((s) => s.padEnd(22)).join(''));
  }

  // The cost of a gradient step in forward passes, per engine and batch (the wasm bar: ≤ 2.5×).
  console.log('\nstep / forward at the same batch');
  for (const c of contenders) {
    const ratios = BATCHES.map((batch) => median(samples.get(c.name)!.get(key('step', batch))!) / median(samples.get(c.name)!.get(key('forward', batch))!));
    console.log(`${c.name.padEnd(22)}${ratios.map((r, i) => `b${BATCHES[i]} ${Number.isNaN(r) ? '—' : `${r.toFixed(2)}×`}`).join('   ')}`);
  }

  const pytorch = contenders.find((c) => c.name === 'pytorch');
  await benchHttpAttack(pytorch, Math.max(3, Math.ceil(repetitions / 2)));
  pytorch?.close();
}

/**
 * A 10-step attack end to end (POST /v1/attacks over loopback, defaults but no early stop,
 * 8-bit rounding only, so exactly 10 gradient steps), against ten PyTorch steps at batch 1,
 * taking turns.
 */
async function benchHttpAttack(pytorch: Contender | undefined, repetitions: number): Promise<void> {
  const config = loadConfig({ ...process.env, ADVPROBE_BACKEND: process.env.ADVPROBE_BACKEND ?? 'auto', LOG_LEVEL: 'warn' });
  const app = await buildApp({ config, fastify: { logger: false } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    await app.model.whenReady();
    const backend = app.model.state.status === 'ready' ? app.model.state.info.backend : '?';
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/attacks`;
    const image = readFileSync(path.join(process.env.ADVPROBE_TEST_DATA ?? path.join(__dirname, '..', '..', 'shared', 'data'), 'tutorial', 'pig.jpg'));
    const attack = async (): Promise<number> => {
      const form = new FormData();
      form.append('image', new Blob([image], { type: 'image/jpeg' }), 'pig.jpg');
      for (const [k, v] of Object.entries({ steps: '10', earlyStop: 'false', quantize: 'round', seed: '1' })) form.append(k, v);
      const started = performance.now();
      const res = await fetch(url, { method: 'POST', body: form });
      if (!res.ok) throw new Error(`attack failed: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      return performance.now() - started;
    };
    const tenSteps = async (): Promise<number> => 10 * (await pytorch!.measure({ what: 'step', batch: 1, calls: 10, warmup: 0 }));
    await attack();
    const http: number[] = [];
    const reference: number[] = [];
    for (let r = 0; r < repetitions; r++) {
      http.push(await attack());
      if (pytorch) reference.push(await tenSteps());
    }
    const ratio = pytorch ? `; ten PyTorch steps ${median(reference).toFixed(0)} ms; ratio ${(median(http) / median(reference)).toFixed(2)}×` : '';
    console.log(`\n10-step attack through HTTP (${backend}, batch 1, median of ${repetitions}): ${median(http).toFixed(0)} ms${ratio}`);
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
