import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { readImagenetSamples } from '../../scripts/imagenet-samples';
import { testDataPath } from './data';

/** Every tenth of the 100 ImageNet samples: ten classes across the set (the whole set: npm run eval:robust). */
export const evaluationSamples = readImagenetSamples(testDataPath('imagenet-samples')).filter((_, i) => i % 10 === 0);

/** Their labels as the `labels` field takes them: a JSON map from file name to class index. */
export const evaluationLabels = JSON.stringify(Object.fromEntries(evaluationSamples.map((s) => [s.name, s.classIndex])));

/** POST /v1/evaluations as multipart: the fields, then the images. */
export function postEvaluation(app: FastifyInstance, fields: Record<string, string>, files = evaluationSamples): request.Test {
  let r = request(app.server).post('/v1/evaluations');
  for (const [k, v] of Object.entries(fields)) r = r.field(k, v);
  for (const s of files) r = r.attach('image', s.data, s.name);
  return r;
}
