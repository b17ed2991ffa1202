/**
 * `npm run bench:throughput`: attack-step throughput with 1 and with 2 concurrent attack jobs,
 * for each CPU engine, before (one worker, no batching) and with the worker pool and dynamic
 * batching. Every configuration runs as its own server on loopback. The configurations of one
 * engine are up together and take turns round by round; then they close and the next engine's
 * start (with every engine's workers loaded at once, the idle ones cost the measured ones
 * throughput: wasm's 2-job ratio fell from 1.75–1.87× to 1.48×). Medians are printed.
 * Each job is a 10-step L∞ sign-PGD attack on the pig (no early stop, 8-bit rounding only).
 * Usage: npm run bench:throughput [-- ROUNDS [FILTER]] (FILTER: only configurations whose name
 * contains it, e.g. wasm)
 */
import { readFileSync } from 'node:fs';
import { median, PIG_PATH, startServer } from './support';

const STEPS = 10;
const CONFIGS: { name: string; env: Record<string, string> }[] = [
  { name: 'wasm: 1 worker, no batching (before)', env: { ADVPROBE_BACKEND: 'wasm', ADVPROBE_WORKERS: '1', ADVPROBE_MAX_BATCH: '1' } },
  { name: 'wasm: auto (1 worker per core), batching', env: { ADVPROBE_BACKEND: 'wasm' } },
  { name: 'onnxruntime: 1 worker, no batching (before)', env: { ADVPROBE_BACKEND: 'onnxruntime', ADVPROBE_WORKERS: '1', ADVPROBE_MAX_BATCH: '1' } },
  { name: 'onnxruntime: auto (1 worker, every core), batching', env: { ADVPROBE_BACKEND: 'onnxruntime' } },
  { name: 'onnxruntime: 2 workers × 1 thread, batching', env: { ADVPROBE_BACKEND: 'onnxruntime', ADVPROBE_WORKERS: '2' } },
];

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const configs = CONFIGS.filter((c) => c.name.includes(process.argv[3] ?? ''));
  const pig = readFileSync(PIG_PATH);
  const attack = async (base: string, seed: number): Promise<void> => {
    const form = new FormData();
    form.append('image', new Blob([pig], { type: 'image/jpeg' }), 'pig.jpg');
    for (const [k, v] of Object.entries({ steps: String(STEPS), earlyStop: 'false', quantize: 'round', images: 'none', seed: String(seed) })) form.append(k, v);
    const res = await fetch(`${base}/v1/attacks`, { method: 'POST', body: form });
    if (!res.ok) throw new Error(`attack failed: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  /** Steps per second with `jobs` attacks submitted at once. */
  const stepsPerSecond = async (base: string, jobs: number): Promise<number> => {
    const started = performance.now();
    await Promise.all(Array.from({ length: jobs }, (_, i) => attack(base, i + 1)));
    return (jobs * STEPS) / ((performance.now() - started) / 1000);
  };

  type Measured = (typeof configs)[number] & { one: number[]; two: number[] };
  const measured: Measured[] = [];
  for (const engine of [...new Set(configs.map((c) => c.env.ADVPROBE_BACKEND))]) {
    const servers = [];
    try {
      for (const config of configs.filter((c) => c.env.ADVPROBE_BACKEND === engine)) {
        const server = await startServer(config.env);
        servers.push({ ...config, ...server, one: [] as number[], two: [] as number[] });
        await stepsPerSecond(server.base, 2); // warm-up: every worker, both batch shapes
        const workers = server.app.model.workerCount;
        console.log(`started ${config.name} (${workers} worker${workers > 1 ? 's' : ''})`);
      }
      for (let r = 0; r < rounds; r++) {
        for (const s of servers) {
          s.one.push(await stepsPerSecond(s.base, 1));
          s.two.push(await stepsPerSecond(s.base, 2));
        }
        console.log(`${engine}: round ${r + 1}/${rounds} done`);
      }
    } finally {
      await Promise.all(servers.map((s) => s.app.close()));
    }
    measured.push(...servers);
  }

  console.log(`\nAttack steps per second (ResNet50, ${STEPS}-step attacks over HTTP, median of ${rounds} rounds); ratio = 2 jobs / 1 job`);
  console.log(['configuration', '1 job', '2 jobs', 'ratio', '10-step attack alone'].map((h, i) => (i === 0 ? h.padEnd(52) : h.padStart(i === 4 ? 24 : 12))).join(''));
  for (const s of measured) {
    const [one, two] = [median(s.one), median(s.two)];
    console.log([s.name.padEnd(52), one.toFixed(2).padStart(12), two.toFixed(2).padStart(12), `${(two / one).toFixed(2)}×`.padStart(12), `${(STEPS / one).toFixed(2)} s`.padStart(24)].join(''));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
