/**
 * Coded errors. Every layer throws `appError(code, params)` with a code declared in
 * ./registry.ts; the HTTP error handler (src/http/error-handler.ts) turns them into
 * {"error":{"code","message"}} in one place.
 */
import { ERRORS, type ErrorCode } from './registry';

export { ERRORS, type DetailCode, type ErrorCode, type ErrorDefinition, type Operation } from './registry';

/**
 * An error with an HTTP status and a stable code. Build new ones with `appError`; the
 * constructor is for errors that come back from a job record or another thread.
 * `cause` holds the internal details: logged, never sent.
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Retry-After on 503. */
    readonly headers: Record<string, string> = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'AppError';
  }
}

/** The `{name}` placeholders of a template; a brace around anything else (`{"index": n}`) is text. */
type Placeholders<S extends string> = S extends `${string}{${infer P}}${infer Rest}`
  ? (P extends `${string}${' ' | '"' | ':'}${string}` ? never : P) | Placeholders<Rest>
  : never;

type HeaderValues<C extends ErrorCode> = (typeof ERRORS)[C] extends { headers: infer H } ? H[keyof H] & string : never;

/** The parameters a code's message and headers need. */
export type ErrorParams<C extends ErrorCode> = { readonly [K in Placeholders<(typeof ERRORS)[C]['message'] | HeaderValues<C>>]: string | number };

type ErrorArgs<C extends ErrorCode> = keyof ErrorParams<C> extends never
  ? [params?: Record<string, never>, options?: { cause?: unknown }]
  : [params: ErrorParams<C>, options?: { cause?: unknown }];

const PLACEHOLDER = /\{([A-Za-z]\w*)\}/g;

/** Fills a template's `{name}` placeholders; a missing one stays as it is, so a test can spot it. */
export function renderTemplate(template: string, params: Readonly<Record<string, string | number>>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** The error for `code`, its message and headers rendered from `params`; `cause` goes to the log only. */
export function appError<C extends ErrorCode>(code: C, ...[params, options]: ErrorArgs<C>): AppError {
  const definition: { status: number; message: string; headers?: Readonly<Record<string, string>> } = ERRORS[code];
  const values: Readonly<Record<string, string | number>> = params ?? {};
  const headers = Object.fromEntries(Object.entries(definition.headers ?? {}).map(([name, value]) => [name, renderTemplate(value, values)]));
  return new AppError(definition.status, code, renderTemplate(definition.message, values), headers, options);
}

/** A 400 invalid_parameter; the message names the field and what is wrong with it. */
export const invalidParameter = (detail: string): AppError => appError('invalid_parameter', { detail });

/** An error's constructor arguments, for a subclass built from the registry. */
export const constructorArgs = (err: AppError): [number, string, string, Record<string, string>] => [err.statusCode, err.code, err.message, err.headers];

/** Thrown by a bounded queue that is full (a class, so callers and tests can tell it apart). */
export class QueueFullError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(...constructorArgs(appError('queue_full', { retryAfter: retryAfterSeconds })));
  }
}

/** Thrown while the model loads (a class, so callers and tests can tell it apart). */
export class NotReadyError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(...constructorArgs(appError('not_ready', { retryAfter: retryAfterSeconds })));
  }
}

