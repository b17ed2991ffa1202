import type { AttackName } from '../../src/attacks/types';
import { openContext } from '../../src/cli/context';
import { evaluateRobustness, type EvaluationImage, type EvaluationSettings } from '../../src/evaluation/robustness';
import { toUnit } from '../../src/images/unit-pixels';
import { loadEngine } from '../../src/model/load-engine';
import { readManifest } from '../../src/model/manifest';
import type { ClassifierEngine } from '../../src/model/engine';
import { readImagenetSamples } from '../../scripts/imagenet-samples';
import { TEST_BACKEND } from '../helpers/app';
import { testDataPath } from '../helpers/data';

/**
 * The claim that makes APGD worth having: at PGD's budget (10 gradient passes per image) it
 * breaks at least as many ImageNet samples (the first 32 of the 100, to keep the suite short).
 * One radius, both from scratch (no warm start from a smaller ε), seeded. npm run bench:attacks
 * has the figures over all 100 and a grid of radii.
 */
const SAMPLES = 32;

describe('APGD-CE vs PGD on ResNet50, 32 ImageNet samples', () => {
  let engine: ClassifierEngine;
  let images: EvaluationImage[];
  beforeAll(async () => {
    const ctx = openContext();
    ({ engine } = await loadEngine({ modelsDir: ctx.config.ADVPROBE_MODELS_DIR, manifest: readManifest(ctx.config.ADVPROBE_MODELS_DIR, 'resnet50'), backend: TEST_BACKEND }));
    images = [];
    for (const s of readImagenetSamples(testDataPath('imagenet-samples')).slice(0, SAMPLES)) images.push({ name: s.name, label: s.classIndex, x: toUnit((await ctx.decode(s.data)).pixels) });
  });
  afterAll(() => engine?.dispose());

  const settings = (attacks: AttackName[]): EvaluationSettings => ({
    attacks,
    choices: { norm: 'linf', steps: 10, restarts: 1, clamp: true, seed: 1 },
    epsilons: [0.5 / 255],
    tolerance: null,
    batchSize: 8,
  });

  it('APGD-CE-10 leaves no more images correct than PGD-10 at ε = 0.5/255', async () => {
    const pgd = await evaluateRobustness(engine, images, settings(['pgd']));
    const apgd = await evaluateRobustness(engine, images, settings(['apgd-ce']));
    expect(pgd.count).toBe(SAMPLES);
    const [p, a] = [pgd.epsilons[0].robustAccuracy, apgd.epsilons[0].robustAccuracy];
    console.log(`robust accuracy at 0.5/255: PGD-10 ${p}, APGD-CE-10 ${a}`);
    expect(a).toBeLessThanOrEqual(p);
    expect(apgd.epsilons[0].brokenBy['apgd-ce']).toBe(Math.round((apgd.cleanAccuracy - a) * SAMPLES));
  }, 240_000);
});
