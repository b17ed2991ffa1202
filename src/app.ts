import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import { AppError } from './errors';
import { registerAuth } from './http/auth';
import { frameworkErrorHandler, registerErrorHandler } from './http/error-handler';
import { createMetrics, type Metrics } from './metrics';
import { attackRoutes } from './http/routes/attacks';
import { classifyRoutes } from './http/routes/classify';
import { docsRoutes } from './http/routes/docs';
import { healthRoutes } from './http/routes/health';
import { jobRoutes } from './http/routes/jobs';
import { evaluationRoutes } from './http/routes/evaluations';
import { modelRoutes } from './http/routes/models';
import { metricsRoutes } from './http/routes/metrics';
import { playgroundRoutes } from './http/routes/playground';
import { AttackJobs } from './jobs/attack-jobs';
import { EvaluationJobs } from './jobs/evaluation-jobs';
import { ModelService } from './jobs/model-service';

export interface AppOptions {
  config: Config;
  /** Fastify's own options (logger, timeouts); the server sets them, tests keep them quiet. */
  fastify?: FastifyServerOptions;
}

const { version } = require('../package.json') as { version: string };

/**
 * Builds the whole service without listening: the server (server.ts) and the tests both
 * start here. The model service, and with it the worker thread, closes with the app.
 */
export async function buildApp({ config, fastify = {} }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...fastify,
    frameworkErrors: frameworkErrorHandler,
    // Unknown query parameters are errors, not silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', ({ method, url }) => {
    for (const m of Array.isArray(method) ? method : [method]) routes.push({ method: m, url });
  });
  app.decorate('registeredRoutes', routes);
  const model = new ModelService(config, app.log);
  const metrics = createMetrics(model);
  const storeOptions = { ttlSeconds: config.ADVPROBE_JOB_TTL_S, maxJobs: config.ADVPROBE_MAX_JOBS };
  const jobs = new AttackJobs(model, storeOptions, app.log, metrics);
  const evaluations = new EvaluationJobs(model, storeOptions, app.log, metrics);
  // Closing: new requests get 503 at once (return503OnClosing); running jobs get a grace
  // period, then fail explicitly; then the worker stops.
  app.addHook('preClose', async () => {
    await Promise.all([jobs.drain(config.ADVPROBE_SHUTDOWN_GRACE_MS), evaluations.drain(config.ADVPROBE_SHUTDOWN_GRACE_MS)]);
  });
  app.addHook('onClose', async () => {
    jobs.close();
    evaluations.close();
    await model.close();
  });
  try {
    await registerEverything(app, config, model, jobs, evaluations, metrics);
  } catch (err) {
    await app.close(); // stops the worker thread too
    throw err;
  }
  return app;
}

async function registerEverything(app: FastifyInstance, config: Config, model: ModelService, jobs: AttackJobs, evaluations: EvaluationJobs, metrics: Metrics): Promise<void> {
  registerErrorHandler(app);
  registerAuth(app, config.ADVPROBE_API_KEYS, config.ADVPROBE_METRICS_PUBLIC);
  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
  await app.register(rateLimit, {
    max: config.ADVPROBE_RATE_LIMIT,
    timeWindow: 60_000,
    // Per API key when keys are on (the hook above ran first), else per client address.
    keyGenerator: (request) => request.owner ?? request.ip,
    allowList: (request) => ['/healthz', '/readyz'].includes(request.routeOptions.url ?? ''),
    errorResponseBuilder: (_request, context) =>
      new AppError(429, 'rate_limited', `more than ${context.max} requests per minute; retry in ${Math.ceil(context.ttl / 1000)} s`, { 'retry-after': String(Math.ceil(context.ttl / 1000)) }),
  });
  await app.register(underPressure, {
    maxEventLoopDelay: config.ADVPROBE_MAX_EVENT_LOOP_DELAY_MS,
    retryAfter: 5,
    customError: class extends AppError {
      constructor() {
        super(503, 'overloaded', 'the service is overloaded; retry later', { 'retry-after': '5' });
      }
    },
  });
  await app.register(multipart, {
    limits: { fileSize: config.ADVPROBE_MAX_UPLOAD_BYTES, files: 2, fields: 30, fieldSize: 64 * 1024, parts: 40, headerPairs: 100 },
  });
  app.addContentTypeParser(/^image\/[\w.+-]+$/, { parseAs: 'buffer', bodyLimit: config.ADVPROBE_MAX_UPLOAD_BYTES }, (_req, body, done) => done(null, body));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'advprobe',
        version,
        description: 'Classifies images with an ImageNet ResNet50 and crafts adversarial examples against it.',
      },
    },
    // Upload routes read their body themselves (multipart or raw image), so their body
    // schema is for the documentation only: `uploadBody` becomes the OpenAPI requestBody.
    transform: ({ schema, url }) => {
      const { uploadBody, ...rest } = (schema ?? {}) as Record<string, unknown>;
      return { schema: (uploadBody ? { ...rest, body: uploadBody } : rest) as typeof schema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes(model));
  await app.register(modelRoutes(model));
  await app.register(classifyRoutes(config, model, metrics));
  await app.register(attackRoutes(config, model, jobs));
  await app.register(jobRoutes(jobs));
  await app.register(evaluationRoutes(config, model, evaluations));
  await app.register(docsRoutes);
  await app.register(playgroundRoutes);
  await app.register(metricsRoutes(metrics));
  app.decorate('model', model);
}

export interface RegisteredRoute {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    model: ModelService;
    /** Every route as registered (the OpenAPI test compares them with openapi.yaml). */
    registeredRoutes: readonly RegisteredRoute[];
  }
}
