import type { Prediction } from '../model/predictions';

export interface LabelledImage {
  name: string;
  data: Buffer;
  classIndex: number;
}

export interface CleanAccuracy {
  count: number;
  top1: number;
  top5: number;
  images: { name: string; classIndex: number; predicted: number; top5: boolean }[];
}

/** Top-1 and top-5 accuracy of a classifier (any function returning top-5 predictions). */
export async function cleanAccuracy(images: LabelledImage[], classify: (data: Buffer) => Promise<Prediction[]>): Promise<CleanAccuracy> {
  const results: CleanAccuracy['images'] = [];
  for (const image of images) {
    const predictions = await classify(image.data);
    results.push({
      name: image.name,
      classIndex: image.classIndex,
      predicted: predictions[0].classIndex,
      top5: predictions.slice(0, 5).some((p) => p.classIndex === image.classIndex),
    });
  }
  const share = (n: number): number => (results.length ? n / results.length : 0);
  return {
    count: results.length,
    top1: share(results.filter((r) => r.predicted === r.classIndex).length),
    top5: share(results.filter((r) => r.top5).length),
    images: results,
  };
}
