import type { TrainingSettings } from '../contract/training-params';
import type { TrainingSource } from '../model/manifest';
import type { TrainingReport } from './run-training';

/** What a trained model's manifest says of its making: its source, job and settings, and a one-line description. */
export function provenance(settings: TrainingSettings, from: string, job: string, report: TrainingReport): { training: TrainingSource; description: string } {
  const { name: _name, model: _model, ...recorded } = settings;
  const images = report.split.train.length + report.split.holdout.length;
  return {
    training: { type: 'training', from, job, trainedAt: new Date().toISOString(), settings: { ...recorded, images } },
    description: `${from} adversarially fine-tuned (${settings.trainable}, ${settings.norm} ε = ${+(settings.epsilon * 255).toFixed(3)}/255, ${settings.epochs} epochs on ${report.split.train.length} images)`,
  };
}
