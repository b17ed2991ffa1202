import type { FastifyError, FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Config } from '../../config';
import type { InferSpec } from '../../contract/job-specs';
import { inferResponse, modelMetadata, parseInferRequest, type ModelShape } from '../../contract/inference-protocol';
import { appError } from '../../errors';
import type { InferResult } from '../../jobs/kinds/infer-kind';
import type { Service } from '../../service';
import { describeError } from '../error-handler';
import { protocolErrorResponses } from '../error-responses';
import { syncWait } from '../prefer';
import { PROBE_LOG_LEVEL } from './health';

const { version } = require('../../../package.json') as { version: string };

const modelErrors = protocolErrorResponses('request', 'access', 'model');
const ModelName = Type.Object({ name: Type.String({ description: 'the model, `resnet50`' }) });
const Tensor = Type.Object({
  name: Type.String(),
  datatype: Type.String(),
  shape: Type.Array(Type.Integer()),
  data: Type.Optional(Type.Array(Type.Number())),
  parameters: Type.Optional(Type.Object({ binary_data_size: Type.Optional(Type.Integer()) })),
});
const InferRequestBody = Type.Object({
  id: Type.Optional(Type.String()),
  parameters: Type.Optional(Type.Object({ binary_data_output: Type.Optional(Type.Boolean()) })),
  inputs: Type.Array(Tensor, { description: 'exactly one: `pixels`' }),
  outputs: Type.Optional(Type.Array(Type.Object({ name: Type.String(), parameters: Type.Optional(Type.Object({ binary_data: Type.Optional(Type.Boolean()) })) }))),
});
const TensorMetadata = Type.Object({ name: Type.String(), datatype: Type.String(), shape: Type.Array(Type.Integer()) });

/** What the /v2 routes share: the one model served, its tensor shape, the service. */
interface Protocol {
  config: Config;
  service: Service;
  name: string;
  shape: ModelShape;
  assertModel(requested: string): void;
}

type ProtocolApp = Parameters<FastifyPluginAsyncTypebox>[0];

/**
 * The Open Inference Protocol (KServe V2 REST) beside advprobe's own API, for the clients
 * that speak it (Triton's, KServe's). Infer runs through the same job queue, API keys and
 * rate limit as POST /v1/classify; errors are the protocol's {"error": "..."}.
 */
export function inferenceProtocolRoutes(config: Config, service: Service): FastifyPluginAsyncTypebox {
  const { catalog } = service;
  const name = catalog.manifest.name;
  const shape: ModelShape = { height: catalog.manifest.input.height, width: catalog.manifest.input.width, classes: catalog.manifest.numClasses, maxBatch: config.ADVPROBE_MAX_BATCH };
  const assertModel = (requested: string): void => {
    if (requested !== name) throw appError('model_not_found', { detail: `unknown model '${requested}'; this server serves '${name}'` });
  };
  const protocol: Protocol = { config, service, name, shape, assertModel };
  return async (app) => {
    useProtocolErrors(app);
    // Bodies are read as bytes: JSON alone, or a JSON header and binary tensor data.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.ADVPROBE_MAX_UPLOAD_BYTES }, (_request, body, done) => done(null, body));
    serverRoutes(app, protocol);
    modelRoutes(app, protocol);
    inferRoute(app, protocol);
  };
}

/** Server metadata and the server's probes. */
function serverRoutes(app: ProtocolApp, { service }: Protocol): void {
  app.get('/v2', {
    schema: {
      summary: 'Open Inference Protocol: server metadata',
      response: { 200: Type.Object({ name: Type.String(), version: Type.String(), extensions: Type.Array(Type.String()) }), ...protocolErrorResponses('access') },
    },
    handler: async () => ({ name: 'advprobe', version, extensions: ['binary_tensor_data'] }),
  });

  app.get('/v2/health/live', {
    logLevel: PROBE_LOG_LEVEL,
    schema: { summary: 'Open Inference Protocol: liveness', response: { 200: Type.Object({ live: Type.Boolean() }) } },
    handler: async () => ({ live: true }),
  });

  app.get('/v2/health/ready', {
    logLevel: PROBE_LOG_LEVEL,
    schema: { summary: 'Open Inference Protocol: readiness (200 ready, 503 not yet)', response: { 200: Type.Object({ ready: Type.Boolean() }), 503: Type.Object({ ready: Type.Boolean() }) } },
    handler: async (_request, reply) => {
      const ready = service.readiness().ready && app.lifecycle.takesWork();
      return reply.code(ready ? 200 : 503).send({ ready });
    },
  });
}

/** The model's metadata and readiness. */
function modelRoutes(app: ProtocolApp, { config, service, name, shape, assertModel }: Protocol): void {
  app.get('/v2/models/:name', {
    schema: {
      summary: 'Open Inference Protocol: model metadata (input `pixels` FP32 [-1, 224, 224, 3], RGB in [0, 1]; outputs `logits` and `probabilities` FP32 [-1, 1000])',
      params: ModelName,
      response: {
        200: Type.Object({ name: Type.String(), versions: Type.Array(Type.String()), platform: Type.String(), inputs: Type.Array(TensorMetadata), outputs: Type.Array(TensorMetadata) }),
        ...modelErrors,
      },
    },
    handler: async (request) => {
      assertModel(request.params.name);
      return modelMetadata(name, `advprobe_${service.readiness().backend ?? config.ADVPROBE_BACKEND}`, shape);
    },
  });

  app.get('/v2/models/:name/ready', {
    schema: {
      summary: 'Open Inference Protocol: model readiness (200 ready, 503 not yet)',
      params: ModelName,
      response: { 200: Type.Object({ name: Type.String(), ready: Type.Boolean() }), ...modelErrors, 503: Type.Object({ name: Type.String(), ready: Type.Boolean() }) },
    },
    handler: async (request, reply) => {
      assertModel(request.params.name);
      const ready = service.readiness().ready && app.lifecycle.takesWork();
      return reply.code(ready ? 200 : 503).send({ name, ready });
    },
  });
}

/** Infer: a batch of images through the job queue, as POST /v1/classify. */
function inferRoute(app: ProtocolApp, { config, service, name, shape, assertModel }: Protocol): void {
  const jobs = service.jobs!;
  app.post('/v2/models/:name/infer', {
    schema: {
      summary: 'Open Inference Protocol: infer a batch of images (JSON tensors, or the binary tensor data extension)',
      description:
        'Input `pixels`: FP32, shape [N, 224, 224, 3], RGB in [0, 1], N ≤ ADVPROBE_MAX_BATCH, one model call for the batch. ' +
        'As JSON `data` (flat or nested, row-major), or binary: send `Inference-Header-Content-Length: <bytes of the JSON header>`, the JSON with ' +
        '`"parameters": {"binary_data_size": N·224·224·3·4}` on the input, then the raw little-endian FP32 bytes. `outputs` selects `logits` and/or ' +
        '`probabilities` (default both); `"parameters": {"binary_data": true}` on an output (or `binary_data_output` on the request) answers it as raw bytes after the JSON header.',
      params: ModelName,
      headers: { type: 'object', properties: { 'inference-header-content-length': { type: 'string', description: 'binary extension: bytes of the JSON header at the start of the body' }, prefer: { type: 'string', description: '`wait=N`: wait at most N seconds (RFC 7240; ADVPROBE_SYNC_WAIT_MS where less), then 503' } } },
      // Read as bytes and checked by parseInferRequest (JSON alone or with binary data after it): documentation only.
      uploadBody: {
        content: {
          'application/json': { schema: InferRequestBody },
          'application/octet-stream': { schema: Type.String({ format: 'binary', description: 'binary extension: the JSON header, then the raw FP32 bytes' }) },
        },
      },
      response: {
        200: Type.Object({ model_name: Type.String(), model_version: Type.String(), id: Type.Optional(Type.String()), outputs: Type.Array(Tensor) }, {
          description: 'JSON; with binary outputs, Content-Type application/octet-stream: this JSON (Inference-Header-Content-Length bytes), then the outputs\' raw FP32 bytes in order',
        }),
        ...protocolErrorResponses('request', 'access', 'model', 'infer', 'run'),
      },
    },
    handler: async (request, reply) => {
      assertModel(request.params.name);
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const headerLength = request.headers['inference-header-content-length'];
      const infer = parseInferRequest(body, typeof headerLength === 'string' ? headerLength : undefined, shape);
      const spec: InferSpec = { count: infer.count };
      const pixels = new Uint8Array(infer.pixels.buffer, infer.pixels.byteOffset, infer.pixels.byteLength);
      const wait = syncWait(config, request.headers.prefer);
      const job = await jobs.run('infer', request.owner ?? null, { spec, blobs: { pixels } }, wait.ms);
      if (wait.appliedSync) reply.header('preference-applied', wait.appliedSync);
      const result = job.result as InferResult;
      const { json, binary } = inferResponse(name, infer, result, result.classes);
      if (!binary) return json;
      const header = Buffer.from(JSON.stringify(json));
      // A Buffer goes out as is; the 200 schema types (and documents) the JSON form only.
      const payload = Buffer.concat([header, binary]) as unknown as typeof json;
      return reply.header('inference-header-content-length', String(header.length)).type('application/octet-stream').send(payload);
    },
  });
}

/** Within /v2: every error as the protocol's {"error": "message"}, with our status codes; a 5xx names its request id. */
function useProtocolErrors(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { status, message, headers } = describeError(err, request);
    return reply.code(status).headers(headers).send({ error: status >= 500 ? `${message} (request ${request.id})` : message });
  });
}
