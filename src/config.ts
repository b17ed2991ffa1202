import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { BACKENDS } from './model/engine';

/**
 * Every setting of the service, read from the environment. This schema is the only list:
 * types, defaults and the README's settings table (test/config.test.ts checks the README
 * names each one) all come from here.
 */
export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'HTTP port' }),
  HOST: Type.String({ default: '0.0.0.0', description: 'Interface to listen on' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino log level' },
  ),
  ADVPROBE_BACKEND: Type.Union(
    [Type.Literal('auto'), ...BACKENDS.map((b) => Type.Literal(b))],
    { default: 'auto', description: 'Engine: auto = tfjs-node-gpu if it loads, else onnxruntime, else tfjs-node, else wasm; cpu (pure JS TensorFlow.js) is for tiny test models only' },
  ),
  ADVPROBE_MODELS_DIR: Type.String({
    default: path.resolve(__dirname, '..', 'models'),
    description: 'Folder with the model manifests (models/*.json) and the fetched weights',
  }),
  ADVPROBE_MAX_UPLOAD_BYTES: Type.Integer({
    minimum: 1,
    default: 20 * 1024 * 1024,
    description: 'Largest accepted upload in bytes (413 above it)',
  }),
  ADVPROBE_MAX_INPUT_PIXELS: Type.Integer({
    minimum: 1,
    default: 50_000_000,
    description: 'Largest decoded image in pixels, width × height (413 above it; stops decompression bombs)',
  }),
  ADVPROBE_RESIZE: Type.Union([Type.Literal('crop'), Type.Literal('squash')], {
    default: 'crop',
    description: 'crop: shorter side to 224 then centre crop; squash: resize to 224×224 ignoring aspect',
  }),
  ADVPROBE_QUEUE_SIZE: Type.Integer({
    minimum: 1,
    default: 32,
    description: 'Jobs waiting for the model worker before new ones get 503 + Retry-After',
  }),
  ADVPROBE_MAX_BATCH: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 8,
    description: 'Most images per model call: concurrent jobs (up to this many per worker, classify and attacks counted apart) have their model calls merged into one batch',
  }),
  ADVPROBE_MAX_QUEUE_DELAY_MS: Type.Number({
    minimum: 0,
    maximum: 1000,
    default: 5,
    description: 'How long a model call may wait for other jobs\' calls to join its batch (it runs at once when every running job has a call waiting)',
  }),
  ADVPROBE_WORKERS: Type.Integer({
    minimum: 0,
    maximum: 64,
    default: 0,
    description: 'Model worker threads; 0 = auto: one per core on wasm (single-threaded), one on ONNX Runtime and tfjs-node (they use every core) — always one on a GPU',
  }),
  ADVPROBE_JOB_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    default: 300_000,
    description: 'Time limit of a job, queue wait included; past it the job fails with job_timeout (an attack stops within one step)',
  }),
  ADVPROBE_JOB_TTL_S: Type.Integer({ minimum: 1, default: 900, description: 'How long finished jobs and their images are kept for GET' }),
  ADVPROBE_MAX_JOBS: Type.Integer({
    minimum: 1,
    default: 200,
    description: 'Most jobs kept at once (each holds up to ~1 MB of images); the oldest finished go first',
  }),
  ADVPROBE_MAX_STEPS: Type.Integer({ minimum: 1, default: 1000, description: 'Largest gradient budget of one attack: steps × restarts (apgd-t: × targets; mode=minimal: × its probes; an evaluation: per ε and attack)' }),
  ADVPROBE_MAX_QUERIES: Type.Integer({ minimum: 1, default: 10000, description: 'Largest forward-pass budget of one square attack: queries × restarts (an evaluation: per ε)' }),
  ADVPROBE_MAX_EVALUATION_IMAGES: Type.Integer({ minimum: 1, default: 100, description: 'Most images in one POST /v1/evaluations' }),
  ADVPROBE_MAX_EVALUATION_BYTES: Type.Integer({ minimum: 1, default: 100 * 1024 * 1024, description: 'Most bytes of images in one POST /v1/evaluations (each image also obeys ADVPROBE_MAX_UPLOAD_BYTES)' }),
  ADVPROBE_MAX_TRAINING_IMAGES: Type.Integer({ minimum: 1, default: 500, description: 'Most images in one POST /v1/trainings' }),
  ADVPROBE_MAX_TRAINING_BUDGET: Type.Integer({
    minimum: 1,
    default: 20_000,
    description: 'Largest cost of one training: images × epochs × (attackSteps + 1), engine passes at batch size 1 (400 = 100 images, 1 epoch, PGD-3; about 1 minute of ONNX Runtime on 2 cores)',
  }),
  ADVPROBE_TRAINING_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 3 * 3600_000, description: 'Time limit of a training job, queue wait included (other jobs: ADVPROBE_JOB_TIMEOUT_MS)' }),
  ADVPROBE_MAX_LOADED_MODELS: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 2,
    description: 'Trained models each model worker keeps loaded besides the base model (loaded on first use; the least recently used idle one goes first)',
  }),
  ADVPROBE_API_KEYS: Type.String({
    default: '',
    description: 'Comma-separated API keys; when set, every route but health, readiness, docs and the playground needs one (Authorization: Bearer or X-API-Key)',
  }),
  ADVPROBE_METRICS_PUBLIC: Type.Boolean({ default: false, description: 'Serve /metrics without an API key even when keys are set' }),
  ADVPROBE_RATE_LIMIT: Type.Integer({ minimum: 1, default: 120, description: 'Requests per minute per API key (or per client IP without keys); 429 + Retry-After above' }),
  ADVPROBE_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 1, default: 1000, description: 'Event-loop delay above which requests get 503 overloaded + Retry-After and /readyz 503 (overload protection); /healthz stays 200' }),
  ADVPROBE_SHUTDOWN_GRACE_MS: Type.Integer({
    minimum: 0,
    default: 30_000,
    description: 'On SIGTERM, the whole stop: running jobs may finish until a fifth of it (at most 5 s) is left, then end shutting_down; then event streams and connections close and the process exits 0',
  }),
  ADVPROBE_REDIS_URL: Type.String({
    default: '',
    description: 'Redis for the distributed mode (e.g. redis://127.0.0.1:6379): jobs, results, events and the rate limit live there and any number of API and worker processes share them. Empty: embedded mode, everything in this process',
  }),
  ADVPROBE_ROLE: Type.Union([Type.Literal('all'), Type.Literal('api'), Type.Literal('worker')], {
    default: 'all',
    description: 'all: HTTP and model worker in one process; api: HTTP only, no model loaded; worker: the model only, serving /healthz, /readyz and /metrics. api and worker need ADVPROBE_REDIS_URL',
  }),
  ADVPROBE_REDIS_PREFIX: Type.String({
    default: 'advprobe',
    pattern: '^[A-Za-z0-9_.-]+$',
    description: 'Prefix of every Redis key and queue name: deployments (or test runs) sharing one Redis stay apart',
  }),
  ADVPROBE_ENGINE_THREADS: Type.Integer({
    minimum: 0,
    maximum: 256,
    default: 0,
    description: 'Threads of each multi-threaded CPU engine (ONNX Runtime); 0 = the cores shared out among the model worker threads',
  }),
  ADVPROBE_SSE_HEARTBEAT_MS: Type.Integer({
    minimum: 100,
    default: 15_000,
    description: 'Event streams send a comment line this often, so proxies and clients see a live connection between steps',
  }),
  ADVPROBE_TEST_HOOKS: Type.Boolean({ default: false, description: 'Test-only: lets tests make the model worker crash mid-job. Never set in production' }),
});

export type Config = Static<typeof ConfigSchema>;

/** Reads and validates the settings; throws one error naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const keys = Object.keys(ConfigSchema.properties);
  const raw: Record<string, unknown> = {};
  for (const key of keys) if (env[key] !== undefined && env[key] !== '') raw[key] = env[key];
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw));
  const config = { ...(converted as object), ...overrides };
  if (!Value.Check(ConfigSchema, config)) {
    const problems = [...Value.Errors(ConfigSchema, config)].map((e) => `${e.path.slice(1)}: ${e.message}`);
    throw new Error(`invalid configuration: ${[...new Set(problems)].join('; ')}`);
  }
  if (config.ADVPROBE_ROLE !== 'all' && !config.ADVPROBE_REDIS_URL) {
    throw new Error(`invalid configuration: ADVPROBE_ROLE: ${config.ADVPROBE_ROLE} needs ADVPROBE_REDIS_URL (api and worker processes meet in Redis)`);
  }
  return config;
}
