import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../../src/attacks/random';
import type { TrainingSettings } from '../../../src/contract/training-params';
import { lowerKerasModel } from '../../../src/model/layer-graph';
import { createOnnxTrainableEngine } from '../../../src/model/onnx/onnx-engine';
import type { TrainableEngine } from '../../../src/model/trainable';
import { runTraining, type TrainingProgress, type TrainingReport } from '../../../src/training/run-training';
import { tinyNetwork } from '../../helpers/tiny-network';

/**
 * Adversarial training end to end (split, scoring before and after, the epochs) on the small
 * random network of helpers/tiny-network.ts (17×19×3 → 10 classes) on ONNX Runtime, the
 * training engine of CPU hosts: milliseconds a step, so the whole run takes about a second.
 * The same on ResNet50 through the API: test/system/http/trainings.test.ts.
 */
const IDENTITY = { scale: 1, channelOrder: 'RGB' as const, mean: [0, 0, 0] as [number, number, number], description: 'none' };
const [h, w, k] = [17, 19, 10];

const settings: TrainingSettings = {
  name: 'tiny-robust',
  model: null,
  trainable: 'all',
  holdout: 0.2,
  norm: 'linf',
  epsilon: 8 / 255,
  attackSteps: 3,
  stepSize: (2.5 * 8) / 255 / 3,
  randomStart: true,
  epochs: 6,
  batchSize: 4,
  learningRate: 0.05,
  momentum: 0.9,
  weightDecay: 0,
  seed: 1,
};

describe('adversarial training on a small random network (ONNX Runtime)', () => {
  let engine: TrainableEngine;
  let initial: Float32Array[];
  let report: TrainingReport;
  const progress: TrainingProgress[] = [];
  const random = seededRandom(5);
  const images = Array.from({ length: 10 }, (_, i) => ({ name: `image-${i}.png`, label: i % k, x: Float32Array.from({ length: h * w * 3 }, () => random.next()) }));
  const pixelsBefore = images.map((image) => image.x.slice());

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const { files, model } = await tinyNetwork();
    model.dispose();
    engine = await createOnnxTrainableEngine(lowerKerasModel(files, 'logits'), IDENTITY, { model: 'tiny', inputHeight: h, inputWidth: w, numClasses: k }, 'all', 1);
    initial = engine.parameters.map((p) => p.data.slice());
    report = await runTraining(engine, images, settings, { onProgress: (p) => progress.push(p) });
  });
  afterAll(() => engine?.dispose());

  it('lowers the adversarial risk of the training split, and its curve goes down', () => {
    expect(report.after.train.adversarialRisk).toBeLessThan(report.before.train.adversarialRisk);
    expect(report.epochs.at(-1)!.adversarialRisk).toBeLessThan(report.epochs[0].adversarialRisk);
  });

  it('changes every trained weight tensor in place, and leaves the images alone', () => {
    expect(engine.parameters.map((p) => p.name)).toEqual(['c1/kernel', 'c1/bias', 'a/kernel', 'a/bias', 'b/kernel', 'b/bias', 's/kernel', 's/bias', 'logits/kernel', 'logits/bias']);
    const unchanged = engine.parameters.filter((p, i) => p.data.every((v, j) => v === initial[i][j])).map((p) => p.name);
    expect(unchanged).toEqual([]);
    expect(images.map((image) => image.x)).toEqual(pixelsBefore);
  });

  it('reports the split, both scorings, the epochs and the progress of each phase', () => {
    expect(report.split.train).toHaveLength(8);
    expect(report.split.holdout).toHaveLength(2);
    expect([...report.split.train, ...report.split.holdout].sort()).toEqual(images.map((image) => image.name).sort());
    for (const scores of [report.before.train, report.after.train, report.before.holdout!, report.after.holdout!]) {
      expect(Object.keys(scores).sort()).toEqual(['adversarialRisk', 'cleanAccuracy', 'count', 'empiricalRisk', 'robustAccuracy']);
      expect(scores.robustAccuracy).toBeLessThanOrEqual(scores.cleanAccuracy);
      expect(scores.adversarialRisk).toBeGreaterThanOrEqual(scores.empiricalRisk);
    }
    expect(report.before.train.count).toBe(8);
    expect(report.before.holdout?.count).toBe(2);
    expect(report.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const epoch of report.epochs) expect(Object.keys(epoch).sort()).toEqual(['adversarialAccuracy', 'adversarialRisk', 'cleanAccuracy', 'empiricalRisk', 'epoch', 'seconds']);
    expect(Object.keys(report.seconds)).toEqual(['before', 'training', 'after']);
    // 8 training images in batches of 4: 2 batches an epoch.
    expect(progress.filter((p) => p.phase === 'training')).toHaveLength(12);
    expect(progress.filter((p) => p.phase === 'epoch')).toHaveLength(6);
    expect(progress.find((p) => p.phase === 'before')).toBeDefined();
    expect(progress.findIndex((p) => p.phase === 'after')).toBeGreaterThan(progress.findIndex((p) => p.phase === 'epoch'));
  });
});
