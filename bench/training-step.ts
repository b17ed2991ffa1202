/**
 * `npm run bench:training`: the time of one adversarial-training step at batch 8 (a clean
 * forward, inner PGD-3, a forward at x + δ, the weight gradient and the SGD update), advprobe
 * on ONNX Runtime against PyTorch doing the same on the same shapes (Debian's python3-torch,
 * 2 threads, bench/pytorch_training_step.py), for each `trainable` choice. Blocks as in
 * `npm run bench`: a contender's own warm-up step, then STEPS consecutive steps timed; the
 * contenders alternate block by block, BLOCKS times; medians of the blocks' means.
 * Usage: npm run bench:training [-- BLOCKS STEPS]
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/config';
import { loadTrainableEngine } from '../src/model/load-engine';
import { readManifest } from '../src/model/manifest';
import { TRAINABLE_SELECTIONS, type TrainableSelection } from '../src/model/trainable';
import { trainAdversarially } from '../src/training/adversarial-training';

const BATCH = 8;
const ATTACK_STEPS = 3;
const THREADS = 2;
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function main(): Promise<void> {
  const blocks = Number(process.argv[2] ?? 3);
  const steps = Number(process.argv[3] ?? 3);
  const config = loadConfig();
  const manifest = readManifest(config.ADVPROBE_MODELS_DIR, 'resnet50');
  const pytorch = await startPytorch();
  const rows: string[] = [];
  for (const selection of TRAINABLE_SELECTIONS) {
    const { engine } = await loadTrainableEngine({ modelsDir: config.ADVPROBE_MODELS_DIR, manifest, backend: 'onnxruntime', threads: THREADS, selection });
    const ours = async (): Promise<number> => {
      // One epoch over (1 + steps) batches of random images: the first batch is the warm-up.
      const images = Array.from({ length: BATCH * (1 + steps) }, (_, i) => ({ x: Float32Array.from({ length: 224 * 224 * 3 }, (_, j) => ((i * 7919 + j * 31) % 255) / 255), label: i % 1000 }));
      const times: number[] = [];
      await trainAdversarially(engine, images, { norm: 'linf', epsilon: 1 / 255, attackSteps: ATTACK_STEPS, stepSize: 2.5 / 255 / ATTACK_STEPS, randomStart: false, epochs: 1, batchSize: BATCH, seed: 1, learningRate: 1e-4, momentum: 0.9, weightDecay: 0 }, {
        onBatch: () => times.push(performance.now()),
      });
      return (times[times.length - 1] - times[0]) / steps;
    };
    const measured: { ours: number[]; pytorch: number[] } = { ours: [], pytorch: [] };
    for (let b = 0; b < blocks; b++) {
      measured.ours.push(await ours());
      if (typeof pytorch !== 'string') measured.pytorch.push(await pytorch.measure(selection, steps));
      console.log(`  ${selection} block ${b + 1}: advprobe ${measured.ours.at(-1)!.toFixed(0)} ms, pytorch ${measured.pytorch.at(-1)?.toFixed(0) ?? '—'} ms`);
    }
    engine.dispose();
    const [o, p] = [median(measured.ours), measured.pytorch.length ? median(measured.pytorch) : NaN];
    rows.push(`| ${selection} | ${o.toFixed(0)} | ${Number.isNaN(p) ? '—' : p.toFixed(0)} | ${Number.isNaN(p) ? '—' : `${(o / p).toFixed(2)}×`} |`);
  }
  if (typeof pytorch === 'string') console.log(pytorch);
  else pytorch.close();
  console.log(`\nOne training step at batch ${BATCH} (clean forward, PGD-${ATTACK_STEPS}, adversarial forward, weight gradient + SGD), ms, medians of ${blocks} blocks of ${steps} steps:`);
  console.log('| trainable | advprobe (ONNX Runtime) | PyTorch 1.13 | ratio |\n| --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

async function startPytorch(): Promise<{ measure(selection: TrainableSelection, steps: number): Promise<number>; close(): void } | string> {
  const setup = spawnSync('bash', [path.join(__dirname, 'setup-pytorch.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (setup.status !== 0) return 'PyTorch could not be installed (bench/setup-pytorch.sh failed)';
  const child = spawn('/usr/bin/python3', [path.join(__dirname, 'pytorch_training_step.py'), String(THREADS), String(ATTACK_STEPS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => JSON.parse(String((await lines.next()).value)) as Record<string, unknown>;
  const hello = await next();
  console.log(`pytorch ${String(hello.torch)}, ${String(hello.threads)} threads`);
  return {
    measure: async (selection, steps) => {
      child.stdin.write(`step ${selection} ${BATCH} ${steps} 1\n`);
      return Number((await next()).ms);
    },
    close: () => child.kill(),
  };
}

void main();
