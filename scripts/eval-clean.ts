/**
 * Clean top-1 / top-5 accuracy of the service's model on the 100 ImageNet samples, through
 * the same decoding and model worker as the HTTP API. Usage: npm run eval:clean [DIR]
 * (DIR defaults to ADVPROBE_TEST_DATA/imagenet-samples, else ../shared/data/imagenet-samples).
 */
import path from 'node:path';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { cleanAccuracy } from '../src/evaluation/clean-accuracy';
import { toModelInput } from '../src/http/model-input';
import { readImagenetSamples } from './imagenet-samples';

async function main(): Promise<void> {
  const dataDir = process.env.ADVPROBE_TEST_DATA ?? path.join(__dirname, '..', '..', 'shared', 'data');
  const dir = process.argv[2] ?? path.join(dataDir, 'imagenet-samples');
  const config = loadConfig();
  const app = await buildApp({ config, fastify: { logger: false } });
  try {
    await app.model.whenReady();
    const images = readImagenetSamples(dir);
    const started = performance.now();
    const result = await cleanAccuracy(images, async (data) => {
      const input = await toModelInput(data, config, app.model);
      return (await app.model.classify(input.pixels, 5)).predictions;
    });
    const seconds = (performance.now() - started) / 1000;
    for (const r of result.images.filter((i) => i.predicted !== i.classIndex)) {
      console.log(`  miss  ${r.name}: predicted ${r.predicted} ${app.model.labels[r.predicted]}${r.top5 ? ' (in top-5)' : ''}`);
    }
    const backend = app.model.state.status === 'ready' ? app.model.state.info.backend : '?';
    console.log(`${result.count} images, backend ${backend}, resize ${config.ADVPROBE_RESIZE}, ${seconds.toFixed(1)} s`);
    console.log(`top-1 ${result.top1.toFixed(2)}  top-5 ${result.top5.toFixed(2)}`);
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
