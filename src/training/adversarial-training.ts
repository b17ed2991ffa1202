/**
 * Adversarial training — Madry et al., "Towards Deep Learning Models Resistant to
 * Adversarial Attacks" (ICLR 2018); Kolter & Madry, "Adversarial Robustness", chapter 1;
 * Wong, Rice & Kolter, "Fast is better than free" (ICLR 2020) for attackSteps = 1 with a
 * random start (FGSM-RS).
 *
 * Minimises the empirical adversarial risk (1/|D|) Σ max_{δ∈Δ(x)} ℓ(h_θ(x+δ), y). By
 * Danskin's theorem the gradient of the inner maximum is ∇θ ℓ at its maximiser δ*, so each
 * minibatch is (1) PGD for δ* per image against the current weights, (2) one SGD step on θ
 * at x + δ*. Batch-norm stays folded and frozen (evaluation mode).
 *
 * Arguments: norm and ε of the ball; attackSteps (default 3) and stepSize (default
 * 2.5·ε/attackSteps) of the inner sign-PGD, randomStart; epochs, batchSize, learningRate,
 * momentum, weightDecay of the SGD; seed (split, shuffles, random starts). Images are RGB HWC
 * in [0, 1] at the engine's input size.
 * Calls per batch: one forward (the clean score), attackSteps input gradients, one forward
 * (δ*'s score) and one weight gradient.
 */
import { add, pack } from '../attacks/batch';
import { settingsFor } from '../attacks/defaults';
import { objectiveCoefficients } from '../attacks/losses';
import { seededRandom, shuffle } from '../attacks/random';
import { runBatch } from '../attacks/runner';
import type { AttackSettings, Norm } from '../attacks/types';
import { chunk, pointOf } from '../evaluation/robustness';
import type { TrainableEngine } from '../model/trainable';
import { createSgd, type SgdSettings } from './sgd';

export interface TrainingImage {
  x: Float32Array;
  label: number;
}

export interface AdversarialTrainingSettings extends SgdSettings {
  norm: Norm;
  epsilon: number;
  attackSteps: number;
  stepSize: number;
  randomStart: boolean;
  epochs: number;
  batchSize: number;
  seed: number;
}

/** Measured during an epoch on each batch before its update: the clean and the inner attack's point. */
export interface EpochReport {
  epoch: number;
  cleanAccuracy: number;
  empiricalRisk: number;
  /** At the inner attack's δ* (attackSteps steps), not PGD-10: what training saw. */
  adversarialAccuracy: number;
  adversarialRisk: number;
  seconds: number;
}

export interface BatchReport {
  epoch: number;
  batch: number;
  batches: number;
  /** Mean cross-entropy at x + δ* (what the update descends). */
  loss: number;
}

export interface TrainingHooks {
  onBatch?: (report: BatchReport) => void;
  onEpoch?: (report: EpochReport) => void;
  /** Before every engine call: the place to throw on cancel. */
  beforeStep?: () => Promise<void>;
}

/** Trains `engine.parameters` in place on the images; returns the per-epoch curve. */
export async function trainAdversarially(engine: TrainableEngine, images: TrainingImage[], settings: AdversarialTrainingSettings, hooks: TrainingHooks = {}): Promise<EpochReport[]> {
  if (images.length === 0) throw new Error('no images to train on');
  const random = seededRandom(settings.seed);
  const sgd = createSgd(engine.parameters, settings);
  const attack = innerAttack(settings);
  const k = engine.info.numClasses;
  const curve: EpochReport[] = [];
  for (let epoch = 1; epoch <= settings.epochs; epoch++) {
    const started = performance.now();
    const batches = chunk(shuffle(images.map((_, i) => i), random), settings.batchSize);
    const totals = { clean: 0, cleanLoss: 0, robust: 0, adversarialLoss: 0 };
    for (const [b, batch] of batches.entries()) {
      const xs = batch.map((i) => images[i].x);
      const labels = batch.map((i) => images[i].label);
      await hooks.beforeStep?.();
      const clean = await engine.logits(pack(xs));
      const cleanLogits = labels.map((_, j) => clean.slice(j * k, (j + 1) * k));
      cleanLogits.forEach((z, j) => {
        const point = pointOf(z, labels[j]);
        totals.clean += Number(point.correct);
        totals.cleanLoss += point.loss;
      });
      const run = await runBatch(engine, { xs, labels, targets: labels.map(() => null), cleanLogits }, attack, random, { hooks: { beforeStep: hooks.beforeStep } });
      let batchLoss = 0;
      run.logits.forEach((z, j) => {
        const point = pointOf(z, labels[j]);
        totals.robust += Number(point.correct);
        totals.adversarialLoss += point.loss;
        batchLoss += point.loss;
      });
      await hooks.beforeStep?.();
      const { gradients } = await engine.weightGradient(pack(xs.map((x, j) => add(x, run.delta[j]))), objectiveCoefficients('ce', labels, labels.map(() => null), run.logits, k)); // a = −e_y: Σ CE(y)
      sgd.step(gradients, 1 / batch.length);
      hooks.onBatch?.({ epoch, batch: b + 1, batches: batches.length, loss: batchLoss / batch.length });
    }
    const n = images.length;
    const report: EpochReport = {
      epoch,
      cleanAccuracy: totals.clean / n,
      empiricalRisk: totals.cleanLoss / n,
      adversarialAccuracy: totals.robust / n,
      adversarialRisk: totals.adversarialLoss / n,
      seconds: (performance.now() - started) / 1000,
    };
    curve.push(report);
    hooks.onEpoch?.(report);
  }
  return curve;
}

/** The inner maximisation: one run of sign-PGD on the cross-entropy, clamped to the image box (pgd's own defaults otherwise). */
export function innerAttack(settings: AdversarialTrainingSettings): AttackSettings {
  const { norm, epsilon, attackSteps: steps, stepSize, randomStart, seed } = settings;
  return settingsFor('pgd', { norm, epsilon, steps, stepSize, randomStart, restarts: 1, earlyStop: false, clamp: true, seed, quantize: 'round' });
}
