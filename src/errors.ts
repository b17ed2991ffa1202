/**
 * Domain errors with an HTTP status and a stable machine-readable code. Every layer throws
 * these; the HTTP error handler (src/http/error-handler.ts) turns them into
 * {"error":{"code","message"}} in one place.
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Retry-After on 503. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: string, message: string): AppError => new AppError(400, code, message);

export class QueueFullError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(503, 'queue_full', 'the model queue is full; retry later', { 'retry-after': String(retryAfterSeconds) });
  }
}

export class NotReadyError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(503, 'not_ready', 'the model is still loading; retry later', { 'retry-after': String(retryAfterSeconds) });
  }
}
