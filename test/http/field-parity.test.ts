import { Kind, type TObject, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import request from 'supertest';
import { AttackFields } from '../../src/contract/attack-params';
import { ClassifyFields } from '../../src/contract/classify';
import { EvaluationFields } from '../../src/contract/evaluation-params';
import { startTinyApp } from '../helpers/app';
import { waitFor } from '../helpers/wait';

/**
 * Every field of every upload route, sent with the same table of values once as a multipart
 * field and once in the query: the outcome (status, error code and message, or the
 * settings the job actually ran with) must be identical. The point is the input contract,
 * so the model is the tiny engine of ResNet50's shapes.
 */

type Outcome = { status: number; error?: unknown; meaning?: unknown };

/** The values every field of a kind goes through: valid, boundaries, exponent form, garbage. */
function valuesFor(field: string, schema: TSchema): string[] {
  const garbage = ['', ' 1', '1 ', '0x10', '1abc', 'Infinity', 'NaN', '1e400'];
  switch (schema[Kind]) {
    case 'Integer': {
      const min = (schema.minimum as number | undefined) ?? 0;
      const max = schema.maximum as number | undefined;
      const bounds = [min, min - 1, ...(max === undefined ? [] : [max, max + 1])].map(String);
      return [...bounds, `${min + 1}`, '2e0', '1E1', '2e+0', '20e-1', '1.5', '1.0', '-0', '+2', ...garbage];
    }
    case 'Boolean':
      return ['true', 'false', '1', '0', 'TRUE', 'yes', ...garbage];
    case 'Union': {
      const literals = (schema.anyOf as TSchema[]).map((s) => String(s.const));
      return [...literals, literals[0].toUpperCase(), `${literals[0]} `, 'garbage', ''];
    }
    default: {
      const byField: Record<string, string[]> = {
        target: ['5', '999', '1000', 'hog', 'random', 'least-likely', 'nonsense', '-1', '5e0'],
        label: ['341', 'hog', '1000', 'nonsense', '3.5'],
        labels: ['{"a.png": 341}', '{"a.png": "hog"}', '{"a.png": {"index": 341}}', '{"b.png": 1}', 'not json', '[]'],
        epsilons: ['1/255', '1/255,2/255', '[0.004, "2/255"]', '1e-2', '4e-3/1', '0x10', '1/0', '-1', ''],
        attacks: ['pgd', 'fgsm', 'autoattack', 'apgd-ce,square', 'pgd,pgd', 'nonsense', ''],
        // The base model, one nobody trained (404), not a name (400), and too long (400).
        model: ['resnet50', 'robust-1', '../x', 'x'.repeat(65)],
      };
      // Fractions (epsilon, stepSize, tolerance, epsilonMax) and anything else.
      return byField[field] ?? ['2/255', '0.01', '1e-2', '2e0/255', '1/0', '0x10', 'abc', '-1', '0', ''];
    }
  }
}

interface RouteCase {
  url: string;
  schema: TObject;
  /** Fields every request carries (unless it tests that field): cheap, seeded, valid. */
  base: Record<string, string>;
  /** What a field needs beside it to be used at all (queries: an attack that queries). */
  context?: Record<string, Record<string, string | undefined>>;
  /** Raw image body with the fields in the query; false: multipart images, fields in the query. */
  rawBody: boolean;
  meaning: (app: FastifyInstance, body: Record<string, unknown>) => Promise<unknown>;
}

const finishedSettings = async (app: FastifyInstance, body: Record<string, unknown>): Promise<unknown> => {
  const url = `/v1/evaluations/${String(body.id)}`;
  await waitFor(async () => ['succeeded', 'failed', 'cancelled'].includes((await request(app.server).get(url)).body.status), 60_000);
  const job = (await request(app.server).get(url)).body as { status: string; result?: { settings: unknown }; error?: unknown };
  return job.status === 'succeeded' ? job.result?.settings : { status: job.status, error: job.error };
};

const ROUTES: RouteCase[] = [
  { url: '/v1/classify', schema: ClassifyFields, base: {}, rawBody: true, meaning: async (_app, body) => body.predictions },
  {
    url: '/v1/attacks',
    schema: AttackFields,
    base: { steps: '1', seed: '7', images: 'none', quantize: 'round' },
    context: { queries: { attack: 'square', steps: undefined }, targets: { attack: 'apgd-t' } },
    rawBody: true,
    meaning: async (_app, body) => body.attack,
  },
  {
    url: '/v1/evaluations',
    schema: EvaluationFields,
    base: { epsilons: '1/255', labels: '{"a.png": 341}', steps: '1', seed: '7', minimal: 'false' },
    context: { queries: { attacks: 'square', steps: undefined }, targets: { attacks: 'apgd-t' }, attacks: { steps: undefined } },
    rawBody: false,
    meaning: finishedSettings,
  },
];

/** The route's base fields with `field` set to `value`, and what that field needs beside it. */
function withField(route: RouteCase, field: string, value: string): Record<string, string> {
  const merged: Record<string, string | undefined> = { ...route.base, ...route.context?.[field], [field]: value };
  return Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
}

describe('one input contract: multipart fields and query parameters mean the same', () => {
  let app: FastifyInstance;
  let png: Buffer;
  beforeAll(async () => {
    // Small budgets: the boundary values (restarts=100, targets=999) are refused as over
    // budget instead of running for minutes; the refusal must match too. 20, the least that
    // lets steps=2E1 run below: the accepted values' attacks, on 224×224×3 arrays in this
    // process, were most of this file's time (411 s of a loaded run at 40).
    // The tiny engine runs on the event loop (no worker thread), so the overload guard's
    // event-loop delay limit is lifted: a 503 here would be the test's doing, not the contract's.
    app = await startTinyApp({ ADVPROBE_MAX_STEPS: 20, ADVPROBE_MAX_QUERIES: 20 });
    png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 120, g: 90, b: 60 } } }).png().toBuffer();
  });
  afterAll(() => app?.close());

  async function outcome(res: request.Response, route: RouteCase): Promise<Outcome> {
    if (res.status >= 400) return { status: res.status, error: res.body.error };
    return { status: res.status, meaning: await route.meaning(app, res.body as Record<string, unknown>) };
  }

  const multipart = (route: RouteCase, fields: Record<string, string | string[]>): request.Test => {
    let r = request(app.server).post(route.url);
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) r = r.field(k, one);
    return r.attach('image', png, 'a.png');
  };
  const query = (route: RouteCase, fields: Record<string, string | string[]>): request.Test => {
    const r = request(app.server).post(route.url).query(fields);
    return route.rawBody ? r.set('content-type', 'image/png').send(png) : r.attach('image', png, 'a.png');
  };

  for (const route of ROUTES) {
    for (const [field, schema] of Object.entries(route.schema.properties)) {
      it(`${route.url} ${field}: every value of the table, both transports`, async () => {
        const differences: string[] = [];
        for (const value of valuesFor(field, schema)) {
          const fields = withField(route, field, value);
          const [viaMultipart, viaQuery] = [await outcome(await multipart(route, fields), route), await outcome(await query(route, fields), route)];
          if (JSON.stringify(viaMultipart) !== JSON.stringify(viaQuery)) differences.push(`${field}=${JSON.stringify(value)}: multipart ${JSON.stringify(viaMultipart)} vs query ${JSON.stringify(viaQuery)}`);
          // 404 only for a model that does not exist (model_not_found), the same over both.
          const expected = field === 'model' ? [200, 202, 400, 404] : [200, 202, 400];
          if (!expected.includes(viaMultipart.status)) differences.push(`${field}=${JSON.stringify(value)}: status ${viaMultipart.status} ${JSON.stringify(viaMultipart.error)}`); // never a 500, never a hang
        }
        expect(differences).toEqual([]);
      });
    }

    it(`${route.url}: a field sent twice, or one it does not know, is the same 400 either way`, async () => {
      const first = Object.keys(route.schema.properties)[0];
      for (const fields of [{ ...route.base, [first]: ['1', '2'] }, { ...route.base, verbose: 'true' }]) {
        const [a, b] = [await multipart(route, fields), await query(route, fields)];
        expect(a.status).toBe(400);
        expect(['duplicate_field', 'unknown_field']).toContain(a.body.error.code);
        expect(b.body).toEqual(a.body);
      }
    });
  }

  it('reads exponent form as the number it is, and refuses what is not a number', async () => {
    const steps = async (value: string) => (await multipart(ROUTES[1], { ...ROUTES[1].base, steps: value })).body;
    expect((await steps('1e1')).attack.steps).toBe(10);
    expect((await steps('2E1')).attack.steps).toBe(20);
    expect((await steps('1e9')).error.code).toBe('invalid_parameter'); // over the step budget
    for (const bad of ['0x10', '1.5', '3abc', ' 3']) expect((await steps(bad)).error.message).toMatch(/^steps: /);
  });
});
