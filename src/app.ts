import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import { appError } from './errors';
import { registerAuth } from './http/auth';
import { frameworkErrorHandler, registerErrorHandler } from './http/error-handler';
import { Lifecycle, registerStoppingGate } from './http/lifecycle';
import { validatorController } from './http/validators';
import { registerUploadParsers } from './http/upload';
import { attackRoutes } from './http/routes/attacks';
import { classifyRoutes } from './http/routes/classify';
import { docsRoutes } from './http/routes/docs';
import { healthRoutes, PROBE_ROUTES } from './http/routes/health';
import { inferenceProtocolRoutes } from './http/routes/inference-protocol';
import { jobRoutes } from './http/routes/jobs';
import { evaluationRoutes } from './http/routes/evaluations';
import { trainingRoutes } from './http/routes/trainings';
import { modelRoutes } from './http/routes/models';
import { metricsRoutes } from './http/routes/metrics';
import { playgroundRoutes } from './http/routes/playground';
import type { EngineFactory, ModelService } from './runtime/model-service';
import { Service } from './service';

export interface AppOptions {
  config: Config;
  /** Fastify's own options (logger, timeouts); the server sets them, tests keep them quiet. */
  fastify?: FastifyServerOptions;
  /** The engine to run instead of loading the model (tests whose point is the HTTP layer). */
  engine?: EngineFactory;
}

const { version } = require('../package.json') as { version: string };

/**
 * Builds the whole service without listening: the server (server.ts) and the tests both
 * start here. What it holds depends on the topology (service.ts): the job service, the
 * model worker, or both; they close with the app.
 */
export async function buildApp({ config, fastify = {}, engine }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // One limit on every body (raw images, Open Inference Protocol requests); multipart files have theirs.
    bodyLimit: config.ADVPROBE_MAX_UPLOAD_BYTES,
    // A 5xx names its request id: unique across API processes, not fastify's per-process req-N.
    genReqId: () => randomUUID(),
    ...fastify,
    frameworkErrors: frameworkErrorHandler,
    // Unknown body fields are errors, not silently dropped; query strings: validators.ts.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
    schemaController: validatorController(),
  }).withTypeProvider<TypeBoxTypeProvider>();

  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', ({ method, url }) => {
    for (const m of Array.isArray(method) ? method : [method]) routes.push({ method: m, url });
  });
  app.decorate('registeredRoutes', routes);
  const service = new Service(config, app.log, engine);
  app.decorate('service', service);
  app.decorate('model', {
    getter: () => {
      if (!service.model) throw new Error('an API process (ADVPROBE_ROLE=api) has no model');
      return service.model;
    },
  });
  // Stopping (http/lifecycle.ts): new work gets 503 shutting_down; running jobs get the grace,
  // then fail explicitly; event streams end; then the workers stop. A listening server does
  // this before closing (shutdown.ts), so the hooks find it done; app.close() alone runs it here.
  // Overloaded: the check is registered later, on API processes only (registerEverything).
  const lifecycle = new Lifecycle(service, () => app.hasDecorator('isUnderPressure') && app.isUnderPressure());
  app.decorate('lifecycle', lifecycle);
  registerStoppingGate(app, lifecycle);
  app.addHook('preClose', async () => {
    await lifecycle.drain(config.ADVPROBE_SHUTDOWN_GRACE_MS);
    await lifecycle.endStreams();
  });
  app.addHook('onClose', async () => service.close());
  try {
    await registerEverything(app, config, service);
    await service.start();
  } catch (err) {
    await app.close(); // stops the worker threads too
    throw err;
  }
  return app;
}

async function registerEverything(app: FastifyInstance, config: Config, service: Service): Promise<void> {
  const { metrics, catalog, jobs } = service;
  registerErrorHandler(app);
  registerAuth(app, config.ADVPROBE_API_KEYS, config.ADVPROBE_METRICS_PUBLIC);
  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
  await registerOpenApi(app);
  // Load never fails liveness; readiness reports it.
  await app.register(healthRoutes(service, app.lifecycle));
  await app.register(metricsRoutes(metrics));
  if (!jobs) return; // a worker process: nothing else to serve

  await registerGuards(app, config, service);
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const heartbeatMs = config.ADVPROBE_SSE_HEARTBEAT_MS;
  await app.register(modelRoutes(service));
  await app.register(classifyRoutes(config, catalog, jobs, service.models));
  await app.register(attackRoutes(config, catalog, jobs, service.models));
  await app.register(jobRoutes(jobs, catalog, heartbeatMs));
  await app.register(evaluationRoutes(config, catalog, jobs, service.models, heartbeatMs));
  await app.register(trainingRoutes(config, catalog, jobs, service.models, heartbeatMs));
  await app.register(inferenceProtocolRoutes(config, service));
  await app.register(docsRoutes);
  await app.register(playgroundRoutes);
}

/** The OpenAPI document (/openapi.yaml, /docs) from the routes' own schemas. */
async function registerOpenApi(app: FastifyInstance): Promise<void> {
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
}

/** What stands before the routes that start work: the rate limit, the overload check, the multipart limits. */
async function registerGuards(app: FastifyInstance, config: Config, service: Service): Promise<void> {
  await app.register(rateLimit, {
    max: config.ADVPROBE_RATE_LIMIT,
    timeWindow: 60_000,
    // Shared by every API process in the distributed mode; if Redis is away the request
    // goes on (and meets 503 queue_unavailable where it needs Redis).
    ...(service.runtime.rateLimitStore ? { ...service.runtime.rateLimitStore, skipOnError: true } : {}),
    // Per API key when keys are on (the hook above ran first), else per client address.
    keyGenerator: (request) => request.owner ?? request.ip,
    allowList: (request) => PROBE_ROUTES.includes(request.routeOptions.url ?? ''),
    errorResponseBuilder: (_request, context) =>
      appError('rate_limited', { max: context.max, retryAfter: Math.ceil(context.ttl / 1000) }),
  });
  await app.register(underPressure, {
    maxEventLoopDelay: config.ADVPROBE_MAX_EVENT_LOOP_DELAY_MS,
    // The probes pass (they report load: health.ts); everything else gets 503 overloaded.
    pressureHandler: async (request) => {
      if (!PROBE_ROUTES.includes(request.routeOptions.url ?? '')) throw appError('overloaded');
    },
  });
  // Files, fields and parts: each route reads with its own limits (upload.ts multipartLimits).
  await app.register(multipart, {
    limits: { fileSize: config.ADVPROBE_MAX_UPLOAD_BYTES, files: 2, fields: 30, fieldSize: 64 * 1024, parts: 40, headerPairs: 100 },
  });
  registerUploadParsers(app, config.ADVPROBE_MAX_UPLOAD_BYTES);
}

export interface RegisteredRoute {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    service: Service;
    /** This process's model runtime (roles all and worker); throws on an API process. */
    readonly model: ModelService;
    /** Every route as registered (the OpenAPI test compares them with openapi.yaml). */
    registeredRoutes: readonly RegisteredRoute[];
  }
}
