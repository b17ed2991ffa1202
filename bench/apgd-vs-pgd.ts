/**
 * npm run bench:apgd-vs-pgd — the claim that makes APGD worth having, measured: at PGD's
 * budget (10 gradient passes per image) APGD-CE breaks at least as many ImageNet samples.
 * One radius (ε = 0.5/255, L∞), both from scratch (no warm start from a smaller ε), seeded,
 * batch 8. Prints the robust accuracy and the time of each, and whether the claim held; it
 * was a test until the suite went into tiers (a benchmark must not hold the suite up: 32
 * images × 2 evaluations on ResNet50). npm run bench:attacks has all 100 images and a grid.
 * BENCH_IMAGES: how many of the 100 samples (default 32, as the test had).
 * The engine is the CLI's (ADVPROBE_BACKEND, default auto: ONNX Runtime on a CPU host).
 */
import path from 'node:path';
import type { AttackName } from '../src/attacks/types';
import { loadModel, openContext } from '../src/cli/context';
import { evaluateRobustness, type EvaluationImage, type EvaluationSettings } from '../src/evaluation/robustness';
import { toUnit } from '../src/images/unit-pixels';
import { readImagenetSamples } from '../scripts/imagenet-samples';
import { DATA_DIR } from './support';

const say = (line: string): void => void process.stderr.write(`${line}\n`);
const EPSILON = 0.5 / 255;

async function main(): Promise<void> {
  const ctx = openContext();
  const engine = await loadModel(ctx, say);
  const samples = readImagenetSamples(path.join(DATA_DIR, 'imagenet-samples')).slice(0, Number(process.env.BENCH_IMAGES ?? 32));
  const images: EvaluationImage[] = [];
  for (const s of samples) images.push({ name: s.name, label: s.classIndex, x: toUnit((await ctx.decode(s.data)).pixels) });
  const settings = (attacks: AttackName[]): EvaluationSettings => ({
    attacks,
    choices: { norm: 'linf', steps: 10, restarts: 1, clamp: true, seed: 1 },
    epsilons: [EPSILON],
    tolerance: null,
    batchSize: 8,
  });

  console.log(`APGD-CE-10 vs PGD-10 at ε = 0.5/255 (L∞), ${images.length} ImageNet samples, ${engine.info.backend}`);
  const accuracy: Record<string, number> = {};
  for (const [name, attack] of [['PGD-10', 'pgd'], ['APGD-CE-10', 'apgd-ce']] as [string, AttackName][]) {
    const started = performance.now();
    const result = await evaluateRobustness(engine, images, settings([attack]));
    const seconds = (performance.now() - started) / 1000;
    const at = result.epsilons[0];
    accuracy[name] = at.robustAccuracy;
    console.log(`${name.padEnd(12)} clean ${(result.cleanAccuracy * 100).toFixed(0)} %, robust ${(at.robustAccuracy * 100).toFixed(1)} %, broken ${at.brokenBy[attack] ?? 0}, ${seconds.toFixed(1)} s`);
  }
  const held = accuracy['APGD-CE-10'] <= accuracy['PGD-10'];
  console.log(held ? 'APGD-CE-10 leaves no more images correct than PGD-10: the claim holds' : 'APGD-CE-10 leaves MORE images correct than PGD-10: the claim fails');
  engine.dispose();
  process.exitCode = held ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
