import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { startTinyApp } from '../helpers/app';
import { PIG, readTestFile } from '../helpers/data';
import { testRedis, uniquePrefix } from '../helpers/redis';
import { waitFor } from '../helpers/wait';

/**
 * A job id is checked before any store access: in Redis a key is built from it, so
 * `<own id>:events` once read the job's event list and answered 503 queue_unavailable with
 * Redis's WRONGTYPE text. Anything that is not an id is 404 job_not_found on every
 * /v1/{jobs,evaluations,trainings}/{id}… route, embedded and over Redis.
 */
const pig = readTestFile(...PIG);

function notIds(own: string): string[] {
  return [`${own}:events`, `${own}:x`, `${own.toUpperCase()}`, 'not-an-id', `${own}0`, '*', `${own.slice(0, 35)}%3A`];
}

function routesFor(id: string): [string, string][] {
  return [
    ['get', `/v1/jobs/${id}`],
    ['get', `/v1/jobs/${id}/events`],
    ['delete', `/v1/jobs/${id}`],
    ['get', `/v1/jobs/${id}/original.png`],
    ['get', `/v1/jobs/${id}/delta.png`],
    ['get', `/v1/evaluations/${id}`],
    ['get', `/v1/evaluations/${id}/events`],
    ['get', `/v1/evaluations/${id}.csv`],
    ['delete', `/v1/evaluations/${id}`],
    ['get', `/v1/trainings/${id}`],
    ['get', `/v1/trainings/${id}/events`],
    ['delete', `/v1/trainings/${id}`],
  ];
}

async function ownAttack(app: FastifyInstance): Promise<string> {
  const accepted = await request(app.server).post('/v1/attacks').set('prefer', 'respond-async').field('steps', '1').field('images', 'none').attach('image', pig, 'pig.jpg').expect(202);
  const id = accepted.body.id as string;
  await waitFor(async () => (await request(app.server).get(`/v1/jobs/${id}`)).body.status === 'succeeded', 30_000);
  return id;
}

async function expectNotFound(app: FastifyInstance, own: string): Promise<void> {
  for (const bad of notIds(own)) {
    for (const [method, url] of routesFor(bad)) {
      const res = await request(app.server)[method as 'get' | 'delete'](url);
      expect({ url: `${method} ${url}`, status: res.status, code: res.body?.error?.code }).toEqual({ url: `${method} ${url}`, status: 404, code: expect.stringMatching(/^(job_not_found|not_found)$/) });
      expect(res.headers['retry-after']).toBeUndefined();
    }
  }
  // The job itself is still there for its real id.
  await request(app.server).get(`/v1/jobs/${own}`).expect(200);
}

describe('job ids that are not ids: 404 before any store access', () => {
  it('embedded (memory store)', async () => {
    const app = await startTinyApp();
    try {
      await expectNotFound(app, await ownAttack(app));
    } finally {
      await app.close();
    }
  });

  it('distributed (Redis store): `<own id>:events` is 404, not 503 WRONGTYPE', async () => {
    const redis = await testRedis();
    const app = await startTinyApp({ ADVPROBE_REDIS_URL: redis.url, ADVPROBE_REDIS_PREFIX: uniquePrefix() });
    try {
      const own = await ownAttack(app);
      const res = await request(app.server).get(`/v1/jobs/${own}:events`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('job_not_found');
      expect(JSON.stringify(res.body)).not.toMatch(/WRONGTYPE/);
      await expectNotFound(app, own);
    } finally {
      await app.close();
      await redis.stop();
    }
  });
});
