import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PIG, testDataPath } from '../../helpers/data';
import { runCli as run } from '../../helpers/cli';
import { tempModelsDir } from '../../helpers/models';

// Usage errors, which load nothing: test/unit/cli/usage.test.ts.
describe('npx advprobe (real ResNet50, in process)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'advprobe-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('classify FILE prints the top-k', async () => {
    const { code, out } = await run(['classify', testDataPath(...PIG), '--topk', '2']);
    expect(code).toBe(0);
    expect(out).toMatch(/341\s+hog\s+0\.99/);
    expect(out.split('\n')).toHaveLength(3);
  });

  it('attack FILE writes the PNGs next to the input (here --out) and reports the flip', async () => {
    const input = path.join(dir, 'pig.jpg');
    writeFileSync(input, readFileSync(testDataPath(...PIG)));
    const { code, out } = await run(['attack', input, '--target', 'airliner', '--seed', '1']);
    expect(code).toBe(0);
    expect(out).toMatch(/hog \(0\.99\d+\) → airliner/);
    for (const suffix of ['original', 'adversarial', 'delta', 'delta-x50']) {
      const meta = await sharp(path.join(dir, `pig.${suffix}.png`)).metadata();
      expect(meta).toMatchObject({ format: 'png', width: 224, height: 224 });
    }
  });

  it('eval DIR writes JSON, CSV, SVG and PNG and prints the table', async () => {
    const out = path.join(dir, 'eval');
    const samples = testDataPath('imagenet-samples');
    // No minimal-ε search (a bisection of PGD runs per image): the API's evaluation test has it.
    const result = await run(['eval', samples, '--labels', path.join(samples, 'labels.json'), '--eps', '1/255,4/255', '--limit', '3', '--minimal', 'false', '--seed', '1', '--out', out]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/clean accuracy/);
    expect(readdirSync(out).sort()).toEqual(['evaluation.csv', 'evaluation.json', 'evaluation.png', 'evaluation.svg']);
    const json = JSON.parse(readFileSync(path.join(out, 'evaluation.json'), 'utf8'));
    expect(json.count).toBe(3);
    expect(json.epsilons).toHaveLength(2);
    expect(readFileSync(path.join(out, 'evaluation.csv'), 'utf8').trim().split('\r\n')).toHaveLength(4);
    expect(readFileSync(path.join(out, 'evaluation.svg'), 'utf8')).toContain('<svg');
  });

  it('train DIR writes the report and its plot, saves the model, and refuses its name a second time', async () => {
    const out = path.join(dir, 'train');
    const modelsDir = tempModelsDir();
    const samples = testDataPath('imagenet-samples');
    const previous = process.env.ADVPROBE_MODELS_DIR;
    process.env.ADVPROBE_MODELS_DIR = modelsDir;
    try {
      const args = ['train', samples, '--labels', path.join(samples, 'labels.json'), '--limit', '4', '--name', 'cli-fc', '--trainable', 'fc', '--epochs', '1', '--holdout', '0.25', '--seed', '1', '--out', out];
      const result = await run(args);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/after\s+train/);
      expect(readdirSync(out).sort()).toEqual(['training.json', 'training.png', 'training.svg']);
      const json = JSON.parse(readFileSync(path.join(out, 'training.json'), 'utf8'));
      expect(json.split.train).toHaveLength(3);
      expect(json.epochs).toHaveLength(1);
      expect(json.model).toMatchObject({ name: 'cli-fc', source: { type: 'training', from: 'resnet50' } });
      expect(readdirSync(path.join(modelsDir, 'trained', 'shared', 'cli-fc')).sort()).toEqual(['labels.json', 'manifest.json', 'model.json', 'weights.bin']);
      const again = await run(args);
      expect(again.code).toBe(2);
      expect(again.err).toMatch(/exists already/);
    } finally {
      if (previous === undefined) delete process.env.ADVPROBE_MODELS_DIR;
      else process.env.ADVPROBE_MODELS_DIR = previous;
      rmSync(modelsDir, { recursive: true, force: true });
    }
  }, 120_000);
});
