/**
 * Every error code the service answers with, declared once: its HTTP status, its message
 * (`{name}` marks a parameter the thrower must give), its headers, and the operations that
 * can answer it. Call sites throw through `appError(code, params)` (./app-error.ts); the
 * error handler, openapi.yaml and the tests read this table. A code's status and message
 * are part of the contract: change them only with the clients in mind.
 *
 * `{detail}` is for the codes whose message is the site's own sentence (a field and what is
 * wrong with it) or fastify's; every other message is fixed here.
 */

/** What a route does, as far as errors go; a route lists its operations (src/http/error-responses.ts). */
export type Operation =
  | 'any' // every route: an unexpected failure
  | 'request' // validates a query, path or body
  | 'access' // behind the API keys, the rate limit and the overload guard
  | 'upload' // reads images (multipart or a raw image body) and decodes them
  | 'model' // picks a model by name
  | 'run' // runs a job and waits for it (the synchronous routes)
  | 'submit' // queues a job and answers 202
  | 'job' // reads or cancels a stored job
  | 'cancel' // cancels a job
  | 'artifact' // serves a finished job's file
  | 'training' // creates a model
  | 'delete-model'
  | 'infer' // the Open Inference Protocol's request body
  | 'cli'; // the command line only

export interface ErrorDefinition {
  readonly status: number;
  readonly message: string;
  /** Response headers; values may use the message's parameters. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly in: readonly Operation[];
}

const RETRY = { 'retry-after': '{retryAfter}' } as const;
const RETRY_5 = { 'retry-after': '5' } as const;

export const ERRORS = {
  // The request: fields, query, path, body.
  invalid_parameter: { status: 400, message: '{detail}', in: ['request', 'upload', 'model', 'infer', 'cli'] },
  unknown_field: { status: 400, message: "unknown field '{field}'; accepted fields: {accepted}", in: ['upload'] },
  duplicate_field: { status: 400, message: "field '{field}' was sent more than once", in: ['upload'] },
  invalid_body: { status: 400, message: '{detail}', in: ['request'] },
  bad_request: { status: 400, message: '{detail}', in: ['request'] },
  invalid_url: { status: 400, message: '{detail}', in: [] },
  uri_too_long: { status: 414, message: '{detail}', in: [] },
  not_found: { status: 404, message: 'no route {method} {path}', in: [] },

  // Uploads and images.
  missing_image: { status: 400, message: '{detail}', in: ['upload'] },
  unsupported_media_type: { status: 415, message: '{detail}', in: ['upload'] },
  payload_too_large: { status: 413, message: 'the {what} is larger than the limit of {limit} bytes ({setting})', in: ['upload', 'infer'] },
  invalid_multipart: { status: 400, message: '{detail}', in: ['upload'] },
  unexpected_file: { status: 400, message: "file field '{field}' is not accepted; send the {what} in field '{expected}'", in: ['upload'] },
  too_many_files: { status: 400, message: '{detail}', in: ['upload'] },
  too_many_fields: { status: 400, message: '{detail}', in: ['upload'] },
  too_many_parts: { status: 400, message: '{detail}', in: ['upload'] },
  empty_image: { status: 400, message: 'the uploaded image is empty', in: ['upload'] },
  invalid_image: { status: 400, message: 'the image could not be decoded: {reason}', in: ['upload'] },
  unsupported_image_format: { status: 415, message: '{detail}', in: ['upload'] },
  image_too_large: { status: 413, message: 'the image has {size} pixels, more than the limit of {limit} (ADVPROBE_MAX_INPUT_PIXELS)', in: ['upload'] },

  // The Open Inference Protocol's body.
  invalid_header: { status: 400, message: "Inference-Header-Content-Length must be a byte count of at most the body's {max} bytes (got {got})", in: ['infer'] },
  invalid_json: { status: 400, message: 'the request {problem}', in: ['infer'] },

  // Access.
  unauthorized: {
    status: 401,
    message: 'a valid API key is required: send Authorization: Bearer <key> or X-API-Key: <key>',
    headers: { 'www-authenticate': 'Bearer' },
    in: ['access'],
  },
  rate_limited: { status: 429, message: 'more than {max} requests per minute; retry in {retryAfter} s', headers: RETRY, in: ['access'] },
  overloaded: { status: 503, message: 'the service is overloaded; retry later', headers: RETRY_5, in: ['access'] },

  // Models.
  model_not_found: { status: 404, message: '{detail}', in: ['model'] },
  model_exists: { status: 409, message: 'a model named {name} exists already{where}; choose another name or delete it first', in: ['training', 'cli'] },
  model_protected: { status: 409, message: '{name} is the base model; it cannot be deleted', in: ['delete-model'] },
  too_many_images: { status: 400, message: 'at most {max} images per training (ADVPROBE_MAX_TRAINING_IMAGES); got {count}', in: ['training'] },
  budget_exceeded: {
    status: 400,
    message: 'images × epochs × (attackSteps + 1) = {budget} is over the limit of {max} (ADVPROBE_MAX_TRAINING_BUDGET)',
    in: ['training'],
  },

  // Jobs: admission, the run, the record.
  queue_full: { status: 503, message: 'the model queue is full; retry later', headers: RETRY, in: ['run', 'submit'] },
  not_ready: { status: 503, message: 'the model is still loading; retry later', headers: RETRY, in: ['run', 'submit'] },
  too_many_jobs: { status: 503, message: 'too many jobs are active; retry later', headers: RETRY_5, in: ['run', 'submit'] },
  queue_unavailable: { status: 503, message: 'the job queue (Redis) is unavailable; retry later', headers: RETRY_5, in: ['run', 'submit', 'job'] },
  shutting_down: { status: 503, message: 'the service is shutting down; retry later', headers: RETRY_5, in: ['run', 'submit'] },
  job_timeout: { status: 503, message: 'the job did not finish within {ms} ms ({setting})', headers: RETRY, in: ['run'] },
  model_unavailable: { status: 500, message: 'the model failed to load; the service log says why', in: ['run', 'submit'] },
  model_error: { status: 500, message: 'the model worker failed; it has been logged', in: ['run'] },
  worker_crashed: { status: 500, message: 'the model worker stopped while running this job; retry', in: ['run'] },
  cancelled: { status: 409, message: 'the job was cancelled', in: ['run'] },
  job_not_found: { status: 404, message: '{detail}', in: ['run', 'job'] }, // run: the job expired while waited for
  job_finished: { status: 409, message: 'job {id} has already {status}', in: ['cancel'] },
  job_not_succeeded: { status: 409, message: '{noun} {id} is {status}; {artifact} once it has succeeded', in: ['artifact'] },
  internal_error: { status: 500, message: 'internal error; it has been logged', in: ['any'] },

  // The command line.
  missing_labels: { status: 400, message: '{command} needs --labels FILE (JSON: file name → class index, label name, or {"index": n})', in: ['cli'] },
  no_images: { status: 400, message: 'no images in {dir} have a label in {labels}', in: ['cli'] },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERRORS;

/** The codes whose message is the thrower's own sentence. */
export type DetailCode = { [C in ErrorCode]: (typeof ERRORS)[C]['message'] extends '{detail}' ? C : never }[ErrorCode];
