import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors';

/** Fastify's and @fastify/multipart's own error codes, mapped to ours. */
const FRAMEWORK_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_REQ_FILE_TOO_LARGE: [413, 'payload_too_large'],
  FST_FILES_LIMIT: [400, 'too_many_files'],
  FST_FIELDS_LIMIT: [400, 'too_many_fields'],
  FST_PARTS_LIMIT: [400, 'too_many_parts'],
  FST_PROTO_VIOLATION: [400, 'invalid_multipart'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [400, 'invalid_multipart'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_body'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_body'],
  FST_ERR_VALIDATION: [400, 'invalid_parameter'],
};

/** Errors fastify's router raises before any route runs (fastify's `frameworkErrors` option). */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const known: Record<string, [number, string]> = { FST_ERR_MAX_PARAM_LENGTH: [414, 'uri_too_long'], FST_ERR_BAD_URL: [400, 'invalid_url'] };
  const [status, code] = known[error.code] ?? [400, 'bad_request'];
  void reply.code(status).send({ error: { code, message: error.message } });
}

/**
 * One place that turns every error into {"error":{"code","message"}}. 4xx messages say
 * what to fix; 5xx from unexpected errors hide internals (they are logged instead).
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { status, code, message, headers } = describeError(err, request);
    return reply.code(status).headers(headers).send({ error: { code, message } });
  });

  app.setNotFoundHandler((request, reply) => {
    const message = `no route ${request.method} ${request.url.split('?')[0]}`;
    // Under /v2 the Open Inference Protocol's form, {"error": "..."}.
    return reply.code(404).send(request.url.startsWith('/v2/') || request.url === '/v2' ? { error: message } : { error: { code: 'not_found', message } });
  });
}

/**
 * What an error means to the client (status, code, message, headers), the same on every
 * route; 5xx are logged here: our own as warnings, unexpected ones with their stack.
 */
export function describeError(err: FastifyError, request: FastifyRequest): { status: number; code: string; message: string; headers: Record<string, string> } {
  if (err instanceof AppError) {
    if (err.statusCode >= 500) request.log.warn({ code: err.code }, err.message);
    return { status: err.statusCode, code: err.code, message: err.message, headers: err.headers };
  }
  const known = err.code ? FRAMEWORK_ERRORS[err.code] : undefined;
  if (known) {
    const [status, code] = known;
    const message = code === 'payload_too_large' ? 'the upload is larger than the limit (ADVPROBE_MAX_UPLOAD_BYTES)' : code === 'invalid_parameter' ? validationMessage(err) : err.message;
    return { status, code, message, headers: {} };
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) return { status: err.statusCode, code: 'bad_request', message: err.message, headers: {} };
  request.log.error({ err }, 'unhandled error');
  return { status: 500, code: 'internal_error', message: 'internal error; it has been logged', headers: {} };
}

/** "topk: must be >= 1" or "unknown querystring parameter 'verbose'": always names the field. */
function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return err.message;
  const context = err.validationContext ?? 'request';
  const unknown = (first.params as { additionalProperty?: string }).additionalProperty;
  if (first.keyword === 'additionalProperties' && unknown) return `unknown ${context} parameter '${unknown}'`;
  const field = first.instancePath.replace(/^\//, '').replace(/\//g, '.') || context;
  return `${field}: ${first.message ?? 'invalid value'}`;
}
