import type { AttackOutcome } from '../../attacks/attack';
import type { AttackFields, AttackRequestSpec } from '../../contract/attack-params';
import type { AttackResult } from '../../contract/attack-schemas';
import { encodePng, exactDelta, scaledDelta } from '../../images/encode';
import type { ModelImage } from '../../images/decode';

type Picture = Pick<ModelImage, 'pixels' | 'width' | 'height'>;
import { topK } from '../../model/predictions';
import { reportedTiming, type JobTiming } from '../../runtime/model-queue';

export const DELTA_VISUAL_SCALE = 50;

/** The result document of a finished attack (the 200 body, and `result` of the job). */
export async function buildAttackResult(
  id: string,
  fields: AttackFields,
  spec: AttackRequestSpec,
  image: Picture,
  outcome: AttackOutcome,
  timing: JobTiming,
  labels: readonly string[],
): Promise<AttackResult> {
  const { settings, topk } = spec;
  const report = (classIndex: number) => ({
    classIndex,
    label: labels[classIndex],
    originalProbability: outcome.clean[classIndex],
    adversarialProbability: outcome.adversarial.probabilities[classIndex],
    quantizedProbability: outcome.quantized.probabilities[classIndex],
  });
  const delta = exactDelta(image.pixels, outcome.quantized.pixels);
  const with255 = (n: { linf: number; l2: number }) => ({ ...n, linf255: n.linf * 255 });
  return {
    id,
    status: 'succeeded',
    attack: {
      mode: spec.search ? 'minimal' : 'attack',
      ...settings,
      epsilon255: settings.epsilon * 255,
      targeted: outcome.target !== null,
      target: fields.target ?? null,
      label: fields.label ?? null,
    },
    original: { predictions: topK(outcome.clean, labels, topk) },
    adversarial: {
      predictions: topK(outcome.adversarial.probabilities, labels, topk),
      success: outcome.adversarial.success,
      range: outcome.adversarial.range,
      quantized: { predictions: topK(outcome.quantized.probabilities, labels, topk), success: outcome.quantized.success, refineSteps: outcome.quantized.refineSteps },
    },
    trueClass: report(outcome.label),
    targetClass: outcome.target === null ? null : report(outcome.target),
    perturbation: { ...with255(outcome.perturbation), quantized: with255(outcome.quantizedPerturbation), deltaPngExact: delta.exact },
    ...(outcome.search
      ? {
          minimalEpsilon: outcome.search.minimalEpsilon,
          minimalEpsilon255: outcome.search.minimalEpsilon === null ? null : outcome.search.minimalEpsilon * 255,
          lowerBound: outcome.search.lowerBound,
          lowerBound255: outcome.search.lowerBound * 255,
          search: { epsilonMax: outcome.search.epsilonMax, tolerance: outcome.search.tolerance, probes: outcome.search.probes },
        }
      : {}),
    calls: outcome.calls,
    losses: outcome.losses,
    ...(spec.images === 'inline' ? { images: await inlineImages(image, outcome.quantized.pixels, delta.pixels) } : {}),
    timingMs: reportedTiming(timing),
  };
}

async function inlineImages(image: Picture, adversarial: Uint8Array, delta: Uint8Array): Promise<NonNullable<AttackResult['images']>> {
  const { width, height } = image;
  const png = async (pixels: Uint8Array) => (await encodePng(pixels, width, height)).toString('base64');
  const [original, adv, d, visual] = await Promise.all([
    png(image.pixels),
    png(adversarial),
    png(delta),
    png(scaledDelta(image.pixels, adversarial, DELTA_VISUAL_SCALE)),
  ]);
  return { original, adversarial: adv, delta: d, deltaVisual: visual };
}
