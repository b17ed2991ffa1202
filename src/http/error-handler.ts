import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, appError, type DetailCode } from '../errors';

/** Fastify's and @fastify/multipart's own error codes, mapped to ours (statuses: src/errors/registry.ts). */
const FRAMEWORK_ERRORS: Record<string, DetailCode | 'payload_too_large'> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_REQ_FILE_TOO_LARGE: 'payload_too_large',
  FST_FILES_LIMIT: 'too_many_files',
  FST_FIELDS_LIMIT: 'too_many_fields',
  FST_PARTS_LIMIT: 'too_many_parts',
  FST_PROTO_VIOLATION: 'invalid_multipart',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'invalid_multipart',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_body',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_body',
  FST_ERR_VALIDATION: 'invalid_parameter',
};

/** Errors fastify's router raises before any route runs (fastify's `frameworkErrors` option). */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const known: Record<string, DetailCode> = { FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long', FST_ERR_BAD_URL: 'invalid_url' };
  const { statusCode, code, message } = appError(known[error.code] ?? 'bad_request', { detail: error.message });
  void reply.code(statusCode).send({ error: { code, message } });
}

/**
 * One place that turns every error into {"error":{"code","message"}}. 4xx messages say
 * what to fix; a 5xx says its code and the request id, its details are in the log.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { status, code, message, headers } = describeError(err, request);
    const requestId = status >= 500 ? { requestId: request.id } : {};
    return reply.code(status).headers(headers).send({ error: { code, message, ...requestId } });
  });

  app.setNotFoundHandler((request, reply) => {
    const { statusCode, code, message } = appError('not_found', { method: request.method, path: request.url.split('?')[0] });
    // Under /v2 the Open Inference Protocol's form, {"error": "..."}.
    return reply.code(statusCode).send(request.url.startsWith('/v2/') || request.url === '/v2' ? { error: message } : { error: { code, message } });
  });
}

export interface ErrorDescription {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
}

/**
 * What an error means to the client (status, code, message, headers), the same on every
 * route; 5xx are logged here with what the client does not see: our own as warnings (with
 * their cause), unexpected ones as errors with their stack.
 */
export function describeError(err: FastifyError, request: FastifyRequest): ErrorDescription {
  const known = err instanceof AppError ? err : frameworkError(err, request);
  if (known) {
    if (known.statusCode >= 500) request.log.warn({ code: known.code, err: known.cause }, known.message);
    return { status: known.statusCode, code: known.code, message: known.message, headers: known.headers };
  }
  request.log.error({ err }, 'unhandled error');
  const { statusCode, code, message } = appError('internal_error');
  return { status: statusCode, code, message, headers: {} };
}

/** Fastify's and its plugins' own errors as ours; undefined for anything unexpected (a 500). */
function frameworkError(err: FastifyError, request: FastifyRequest): AppError | undefined {
  const code = err.code ? FRAMEWORK_ERRORS[err.code] : undefined;
  if (code === 'payload_too_large') {
    // Every body limit is ADVPROBE_MAX_UPLOAD_BYTES (app.ts sets fastify's, multipart's and the parsers').
    return appError(code, { what: 'upload', limit: request.routeOptions.bodyLimit, setting: 'ADVPROBE_MAX_UPLOAD_BYTES' });
  }
  if (code) return appError(code, { detail: code === 'invalid_parameter' ? validationMessage(err) : err.message });
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError(err.statusCode, 'bad_request', err.message); // a plugin's 4xx: its own status
  }
  return undefined;
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
