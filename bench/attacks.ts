/**
 * npm run bench:attacks — the attacks side by side on this machine, in one run:
 *  1. robust accuracy of the 100 ImageNet samples at ε = 0.25, 0.5 and 1 /255 under PGD-10,
 *     APGD-CE-10 and autoattack (APGD-CE, APGD-T with 3 targets, Square with 100 queries;
 *     10 steps), with the time of each evaluation;
 *  2. Square's queries to success on the pig at 4/255 (L∞; median of 5 seeds, 10 000 at most);
 *  3. an evaluation's time per image at batch 1 and batch 8 (PGD-10 at 1/255, 8 images,
 *     alternating, two rounds each).
 * The engine is the CLI's (ADVPROBE_BACKEND, default auto: ONNX Runtime here). BENCH_PARTS
 * picks parts (e.g. "1,3"), BENCH_IMAGES caps part 1's images.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runAttack } from '../src/attacks/attack';
import { settingsFor } from '../src/attacks/defaults';
import type { AttackName } from '../src/attacks/types';
import { loadModel, openContext } from '../src/cli/context';
import { evaluateRobustness, type EvaluationImage, type EvaluationSettings } from '../src/evaluation/robustness';
import { toUnit } from '../src/images/unit-pixels';
import { readImagenetSamples } from '../scripts/imagenet-samples';
import { DATA_DIR, median, PIG_PATH } from './support';
import { readFileSync } from 'node:fs';

const say = (line: string): void => void process.stderr.write(`${line}\n`);
const parts = new Set((process.env.BENCH_PARTS ?? '1,2,3').split(',').map((p) => p.trim()));
const EPSILONS = [0.25 / 255, 0.5 / 255, 1 / 255];

async function main(): Promise<void> {
  const ctx = openContext();
  const engine = await loadModel(ctx, say);
  const samples = readImagenetSamples(path.join(DATA_DIR, 'imagenet-samples')).slice(0, Number(process.env.BENCH_IMAGES ?? 100));
  const images: EvaluationImage[] = [];
  for (const s of samples) images.push({ name: s.name, label: s.classIndex, x: toUnit((await ctx.decode(s.data)).pixels) });
  const report: Record<string, unknown> = { backend: engine.info.backend, images: images.length };
  const settings = (attacks: AttackName[], batchSize: number, epsilons = EPSILONS): EvaluationSettings => ({
    attacks,
    choices: { norm: 'linf', steps: 10, restarts: 1, clamp: true, seed: 1, targets: 3, queries: 100 },
    epsilons,
    tolerance: null,
    batchSize,
  });

  if (parts.has('1')) {
    console.log(`\n1. Robust accuracy, ${images.length} ImageNet samples, L∞, batch 8 (${engine.info.backend})`);
    console.log(['attack', ...EPSILONS.map((e) => `${+(e * 255).toFixed(2)}/255`), 'time'].map((h) => h.padStart(14)).join(''));
    const rows: Record<string, unknown>[] = [];
    for (const [name, attacks] of [['PGD-10', ['pgd']], ['APGD-CE-10', ['apgd-ce']], ['autoattack', ['apgd-ce', 'apgd-t', 'square']]] as [string, AttackName[]][]) {
      const started = performance.now();
      const result = await evaluateRobustness(engine, images, settings(attacks, 8), { onProgress: (p) => process.stderr.write(`\r  ${name}: ${p.done}/${p.total} ${p.attack ?? ''}     `) });
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write('\n');
      console.log([name, ...result.epsilons.map((e) => `${(e.robustAccuracy * 100).toFixed(0)} %`), `${seconds.toFixed(0)} s`].map((c) => c.padStart(14)).join(''));
      if (attacks.length > 1) for (const e of result.epsilons) console.log(`${''.padStart(14)}  at ${+(e.epsilon * 255).toFixed(2)}/255 broken by ${JSON.stringify(e.brokenBy)}`);
      rows.push({ name, cleanAccuracy: result.cleanAccuracy, seconds, epsilons: result.epsilons });
    }
    report.robustAccuracy = rows;
  }

  if (parts.has('2')) {
    console.log('\n2. Square (L∞, 4/255) on the pig: forward passes to success, 10 000 at most');
    const { pixels } = await ctx.decode(readFileSync(PIG_PATH));
    const queries: number[] = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      const s = settingsFor('square', { norm: 'linf', epsilon: 4 / 255, restarts: 1, earlyStop: false, clamp: true, seed, quantize: 'round', queries: 10000 });
      const started = performance.now();
      const out = await runAttack(engine, { x: toUnit(pixels), label: null, target: { kind: 'none' } }, s);
      const n = out.adversarial.success ? out.calls.forward : Infinity;
      queries.push(n);
      console.log(`  seed ${seed}: ${out.adversarial.success ? `${n} queries` : 'not broken in 10 000'} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
    console.log(`  median: ${median(queries)} queries`);
    report.square = { queries, median: median(queries) };
  }

  if (parts.has('3')) {
    const few = images.slice(0, 8);
    console.log(`\n3. Evaluation time per image, PGD-10 at 1/255, ${few.length} images: batch 1 vs batch 8 (alternating)`);
    const times: Record<string, number[]> = { '1': [], '8': [] };
    for (let round = 0; round < 2; round++) {
      for (const batch of [1, 8]) {
        const started = performance.now();
        await evaluateRobustness(engine, few, settings(['pgd'], batch, [1 / 255]));
        times[batch].push((performance.now() - started) / few.length);
      }
    }
    for (const batch of ['1', '8']) console.log(`  batch ${batch}: ${median(times[batch]).toFixed(0)} ms per image (rounds ${times[batch].map((t) => t.toFixed(0)).join(', ')})`);
    console.log(`  batched / batch 1: ${(median(times['8']) / median(times['1'])).toFixed(2)}`);
    report.batching = times;
  }

  const out = path.join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'attacks.json'), JSON.stringify(report, null, 2));
  engine.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
