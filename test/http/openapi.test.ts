import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { parse } from 'yaml';
import { generateOpenApi } from '../../scripts/write-openapi';
import { startTinyApp } from '../helpers/app';

const committed = readFileSync(path.join(__dirname, '..', '..', 'openapi.yaml'), 'utf8');

describe('openapi.yaml', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startTinyApp();
  });
  afterAll(() => app?.close());

  it('is exactly what the route schemas generate (run `npm run openapi` after changing a route)', async () => {
    expect(await generateOpenApi()).toBe(committed);
  });

  it('is what GET /openapi.yaml serves', async () => {
    const res = await request(app.server).get('/openapi.yaml').expect(200);
    expect(res.headers['content-type']).toMatch(/application\/yaml/);
    expect(res.text).toBe(committed);
    await request(app.server).get('/docs').redirects(1).expect(200);
  });

  it('lists every registered route, and only those', async () => {
    const spec = parse(committed) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(spec.paths).flatMap(([url, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${url}`));
    const registered = app.registeredRoutes
      .filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs'))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(new Set(documented)).toEqual(new Set(registered));
  });
});

