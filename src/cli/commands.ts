import { accessSync, constants, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { SingleBar } from 'cli-progress';
import sharp from 'sharp';
import { runAttack } from '../attacks/attack';
import { appError, invalidParameter } from '../errors';
import { evaluationCsv } from '../evaluation/csv';
import { parseLabelsMap } from '../evaluation/labels-map';
import { robustnessPlotSvg } from '../evaluation/plot';
import { evaluateRobustness, type EvaluationImage } from '../evaluation/robustness';
import { attackLimits, resolveAttackRequest, AttackFields } from '../contract/attack-params';
import { EvaluationFields, resolveEvaluationSettings } from '../contract/evaluation-params';
import { TopK } from '../contract/classify';
import { parseFields } from '../contract/fields';
import { Type } from '@sinclair/typebox';
import { encodePng, exactDelta, scaledDelta } from '../images/encode';
import { softmax, topK } from '../model/predictions';
import type { ClassifierEngine } from '../model/engine';
import { toUnit } from '../images/unit-pixels';
import { loadModel, openContext, type CliContext } from './context';
import { resolveTrainingSettings, TrainingFields, trainingLimits } from '../contract/training-params';
import { loadTrainableEngine } from '../model/load-engine';
import { ModelStore, modelExists } from '../model/model-store';
import { runTraining } from '../training/run-training';
import { trainingPlotSvg } from '../training/plot';
import { provenance } from '../training/provenance';

type Flags = Record<string, string | boolean | undefined>;
const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp|gif|tiff?|avif)$/i;
const say = (line: string): void => void process.stderr.write(`${line}\n`);

/** Flags arrive as strings; the HTTP schemas convert and check them, so both take the same names. */
const asFields = (flags: Flags, drop: string[] = []): Record<string, unknown> =>
  Object.fromEntries(Object.entries(flags).filter(([k, v]) => v !== undefined && !drop.includes(k)).map(([k, v]) => [k, String(v)]));

/** Runs `work` with the model loaded, and releases it after. */
async function withModel<T>(ctx: CliContext, work: (engine: ClassifierEngine) => Promise<T>): Promise<T> {
  const engine = await loadModel(ctx, say);
  try {
    return await work(engine);
  } finally {
    engine.dispose();
  }
}

export async function classifyCommand(files: string[], flags: Flags): Promise<void> {
  const { topk } = parseFields(Type.Object({ topk: TopK }), asFields({ topk: flags.topk ?? '5' }));
  const ctx = openContext();
  await withModel(ctx, async (engine) => {
    for (const file of files) {
      const image = await ctx.decode(readFileSync(file));
      const predictions = topK(softmax(await engine.logits({ data: toUnit(image.pixels), count: 1 })), ctx.labels, topk);
      console.log(file);
      for (const p of predictions) console.log(`  ${String(p.classIndex).padStart(4)}  ${p.label.padEnd(30)} ${p.probability.toFixed(4)}`);
    }
  });
}

export async function attackCommand(file: string, flags: Flags): Promise<void> {
  const ctx = openContext();
  const fields = parseFields(AttackFields, asFields(flags, ['out']));
  const spec = resolveAttackRequest(fields, ctx.labels, attackLimits(ctx.config));
  const outDir = writableFolder(typeof flags.out === 'string' ? flags.out : path.dirname(file));
  const image = await ctx.decode(readFileSync(file));
  await withModel(ctx, async (engine) => {
    const bar = progressBar('step');
    const outcome = await runAttack(engine, { x: toUnit(image.pixels), label: spec.label, target: spec.target }, spec.settings, {
      onProgress: (p) => bar.update(p.step + 1, { total: p.steps }),
    }, spec.search);
    bar.stop();
    const base = path.join(outDir, path.parse(file).name);
    const { width, height } = image;
    const written: string[] = [];
    for (const [suffix, pixels] of [
      ['original', image.pixels],
      ['adversarial', outcome.quantized.pixels],
      ['delta', exactDelta(image.pixels, outcome.quantized.pixels).pixels],
      ['delta-x50', scaledDelta(image.pixels, outcome.quantized.pixels, 50)],
    ] as const) {
      const out = `${base}.${suffix}.png`;
      writeFileSync(out, await encodePng(pixels, width, height));
      written.push(out);
    }
    const top = (p: Float32Array) => topK(p, ctx.labels, 1)[0];
    console.log(`${file}: ${top(outcome.clean).label} (${top(outcome.clean).probability.toFixed(4)}) → ${top(outcome.adversarial.probabilities).label} (${top(outcome.adversarial.probabilities).probability.toFixed(4)})`);
    console.log(`  adversarial: ${outcome.adversarial.success}; as 8-bit PNG: ${outcome.quantized.success}; ‖δ‖∞ = ${(outcome.perturbation.linf * 255).toFixed(3)}/255, ‖δ‖₂ = ${outcome.perturbation.l2.toFixed(4)}`);
    if (outcome.search) {
      const m = outcome.search.minimalEpsilon;
      console.log(`  minimal ε: ${m === null ? `none up to ${(outcome.search.epsilonMax * 255).toFixed(3)}/255` : `${(m * 255).toFixed(3)}/255`} (largest ε that failed: ${(outcome.search.lowerBound * 255).toFixed(3)}/255)`);
    }
    console.log(`  ${spec.settings.attack}: ${outcome.calls.forward} forward and ${outcome.calls.gradient} gradient passes`);
    console.log(`  wrote ${written.join(', ')}`);
  });
}

export async function evaluateCommand(dir: string, flags: Flags): Promise<void> {
  const ctx = openContext();
  const set = labelledSet('eval', dir, flags, ctx);
  const fields = parseFields(EvaluationFields, { ...asFields(flags, ['labels', 'out', 'limit', 'eps']), epsilons: String(flags.eps ?? flags.epsilons ?? '') });
  const settings = { ...resolveEvaluationSettings(fields, attackLimits(ctx.config)), batchSize: ctx.config.ADVPROBE_MAX_BATCH };
  const outDir = set.outDir;
  const images = await decodeLabelled(dir, set, ctx);
  await withModel(ctx, async (engine) => {
    say(`${images.length} images, ε = ${settings.epsilons.map((e) => `${+(e * 255).toFixed(3)}/255`).join(', ')}, ${describeAttacks(settings.attacks, settings.choices.steps)}`);

    const bar = progressBar('units');
    const started = performance.now();
    const result = await evaluateRobustness(engine, images, settings, { onProgress: (p) => bar.update(p.done, { total: p.total }) });
    bar.stop();
    const seconds = (performance.now() - started) / 1000;

    console.log(`\nclean accuracy ${result.cleanAccuracy.toFixed(3)}, empirical risk ${result.empiricalRisk.toFixed(3)} (${result.count} images, ${seconds.toFixed(0)} s)`);
    console.log([...['ε', 'ε×255', 'robust acc.', 'adv. risk', 'success'].map((h) => h.padStart(12)), '  broken by'].join(''));
    for (const e of result.epsilons) {
      console.log([e.epsilon.toFixed(5), (e.epsilon * 255).toFixed(3), e.robustAccuracy.toFixed(3), e.adversarialRisk.toFixed(3), e.successRate.toFixed(3)].map((c) => c.padStart(12)).join('') + `  ${Object.entries(e.brokenBy).map(([a, n]) => `${a} ${n}`).join(', ')}`);
    }
    const found = result.images.map((r) => r.minimalEpsilon).filter((m): m is number => m !== null).sort((a, b) => a - b);
    if (found.length) console.log(`minimal ε × 255: median ${(found[Math.floor(found.length / 2)] * 255).toFixed(3)} over ${found.length} images flipped`);

    const out = (ext: string) => path.join(outDir, `evaluation.${ext}`);
    writeFileSync(out('json'), JSON.stringify({ settings, ...result }, null, 2));
    writeFileSync(out('csv'), evaluationCsv(result, ctx.labels));
    const svg = robustnessPlotSvg(result, `ResNet50 robustness, ${describeAttacks(settings.attacks, settings.choices.steps)} (${settings.choices.norm})`);
    writeFileSync(out('svg'), svg);
    await sharp(Buffer.from(svg)).png().toFile(out('png'));
    console.log(`wrote ${['json', 'csv', 'svg', 'png'].map(out).join(', ')}`);
  });
}

/**
 * Adversarial training in this process on ONNX Runtime: the report (JSON and a plot) in
 * --out, the new model in ADVPROBE_MODELS_DIR (as a key-less service would save it).
 */
export async function trainCommand(dir: string, flags: Flags): Promise<void> {
  const ctx = openContext();
  const set = labelledSet('train', dir, flags, ctx);
  const { names, outDir } = set;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const fields = parseFields(TrainingFields, { name: `trained-${stamp}`, ...asFields(flags, ['labels', 'out', 'limit']) });
  const settings = resolveTrainingSettings(fields, names.length, trainingLimits(ctx.config));
  const store = new ModelStore(ctx.config.ADVPROBE_MODELS_DIR);
  if (store.exists(settings.name, null)) throw modelExists(settings.name, ` in ${ctx.config.ADVPROBE_MODELS_DIR}`);
  const source = store.find(settings.model ?? ctx.manifest.name, null);
  const images = await decodeLabelled(dir, set, ctx);
  const started = performance.now();
  const { engine, graph } = await loadTrainableEngine({ modelsDir: source.modelsDir, manifest: source.manifest, backend: 'onnxruntime', selection: settings.trainable });
  say(`${source.manifest.name} (${settings.trainable} trainable) on onnxruntime, loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  say(`${images.length} images, ε = ${+(settings.epsilon * 255).toFixed(3)}/255 ${settings.norm}, PGD-${settings.attackSteps} inside, ${settings.epochs} epochs of batch ${settings.batchSize}, learning rate ${settings.learningRate}`);
  try {
    const bar = progressBar('images scored / batches trained');
    const report = await runTraining(engine, images, settings, {
      onProgress: (p) => {
        // One bar: scoring (images done) before, the training (batches), scoring after.
        if (p.phase === 'before' || p.phase === 'after') bar.update(p.done, { total: p.total });
        else if (p.phase === 'training') bar.update((p.epoch - 1) * p.batches + p.batch, { total: settings.epochs * p.batches });
        else if (p.phase === 'epoch') say(`\nepoch ${p.epoch}: adversarial risk ${p.adversarialRisk.toFixed(3)}, accuracy ${p.adversarialAccuracy.toFixed(3)} (clean ${p.cleanAccuracy.toFixed(3)}), ${p.seconds.toFixed(0)} s`);
      },
    });
    bar.stop();
    const saved = store.save(source, graph, engine.parameters, { name: settings.name, owner: null, ...provenance(settings, source.manifest.name, `cli-${stamp}`, report) });
    console.log(['', 'split', 'clean acc.', 'robust acc.', 'emp. risk', 'adv. risk'].map((h) => h.padStart(12)).join(''));
    for (const [when, scores] of [['before', report.before], ['after', report.after]] as const) {
      for (const [split, s] of [['train', scores.train], ['hold-out', scores.holdout]] as const) {
        if (s) console.log([when, split, s.cleanAccuracy.toFixed(3), s.robustAccuracy.toFixed(3), s.empiricalRisk.toFixed(3), s.adversarialRisk.toFixed(3)].map((c) => c.padStart(12)).join(''));
      }
    }
    console.log(`training ${report.seconds.training.toFixed(0)} s (${(report.seconds.training / settings.epochs).toFixed(1)} s per epoch); scoring ${report.seconds.before.toFixed(0)} s before, ${report.seconds.after.toFixed(0)} s after`);
    const out = (ext: string) => path.join(outDir, `training.${ext}`);
    writeFileSync(out('json'), JSON.stringify({ settings, model: saved.manifest, ...report }, null, 2));
    const svg = trainingPlotSvg(report, `Adversarial training of ${source.manifest.name} (${settings.trainable}, ε = ${+(settings.epsilon * 255).toFixed(3)}/255)`);
    writeFileSync(out('svg'), svg);
    await sharp(Buffer.from(svg)).png().toFile(out('png'));
    console.log(`model ${saved.manifest.name} saved in ${path.join(saved.modelsDir, saved.manifest.name)}; wrote ${['json', 'svg', 'png'].map(out).join(', ')}`);
  } finally {
    engine.dispose();
  }
}

/** The images of DIR that --labels labels (the first --limit), and the --out folder: checked before the model loads. */
function labelledSet(command: string, dir: string, flags: Flags, ctx: CliContext): { names: string[]; labelOf: Map<string, number>; outDir: string } {
  if (typeof flags.labels !== 'string') throw appError('missing_labels', { command });
  const labelOf = parseLabelsMap(JSON.parse(readFileSync(flags.labels, 'utf8')) as unknown, ctx.labels);
  const limit = flags.limit === undefined ? Infinity : Number(flags.limit);
  const names = readdirSync(dir).filter((f) => IMAGE_EXTENSIONS.test(f) && labelOf.has(f)).sort().slice(0, limit);
  if (names.length === 0) throw appError('no_images', { dir, labels: flags.labels });
  return { names, labelOf, outDir: writableFolder(typeof flags.out === 'string' ? flags.out : '.') };
}

/** Creates the output folder and checks it is writable before any computing, so a long run is not lost at the end. */
function writableFolder(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw invalidParameter(`--out ${dir}: cannot write there (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return dir;
}

async function decodeLabelled(dir: string, { names, labelOf }: { names: string[]; labelOf: Map<string, number> }, ctx: CliContext): Promise<EvaluationImage[]> {
  const images: EvaluationImage[] = [];
  for (const name of names) images.push({ name, x: toUnit((await ctx.decode(readFileSync(path.join(dir, name)))).pixels), label: labelOf.get(name)! });
  return images;
}

/** "PGD-10" or "worst of apgd-ce, apgd-t, square" for titles. */
function describeAttacks(attacks: string[], steps: number | undefined): string {
  return attacks.length === 1 && attacks[0] === 'pgd' ? `PGD-${steps ?? 10}` : `worst of ${attacks.join(', ')}`;
}

function progressBar(unit: string): SingleBar {
  const bar = new SingleBar({ format: `{bar} {value}/{total} ${unit} | {duration_formatted} elapsed, ETA {eta_formatted}`, stream: process.stderr, hideCursor: true, noTTYOutput: false });
  bar.start(1, 0);
  return bar;
}
