import type { Config } from './config';
import { JobExecutor } from './jobs/job-executor';
import { JobService } from './jobs/job-service';
import { JOB_KINDS, WORKER_PROGRAM } from './jobs/kinds';
import { createRuntime, type JobRuntime } from './jobs/runtime';
import { timeLimit } from './jobs/time-limit';
import type { Log } from './log';
import { createMetrics, type Metrics } from './metrics';
import { loadCatalog, type ModelCatalog } from './model/catalog';
import { ModelStore } from './model/model-store';
import { ModelService, type EngineFactory } from './runtime/model-service';

export type Role = Config['ADVPROBE_ROLE'];

export interface Readiness {
  ready: boolean;
  status: 'ready' | 'loading' | 'failed' | 'unavailable';
  backend: string | null;
  reason?: string;
}

/**
 * The service's parts for one process. The job runtime (jobs/runtime.ts) holds what differs
 * by topology; the role says which sides live here: role api has the job service and no
 * model, role worker the model and executor and no routes but health, role all both.
 * The HTTP layer (app.ts) and the worker entry take what they need from here.
 */
export class Service {
  readonly catalog: ModelCatalog;
  /** The base model and the trained ones, on disk (shared by every process of a deployment). */
  readonly models: ModelStore;
  /** Job store, work queue, event bus, rate-limit store: memory or Redis. */
  readonly runtime: JobRuntime;
  /** The API side: submit, wait, cancel (roles all and api). */
  readonly jobs: JobService | null;
  /** The model worker side (roles all and worker). */
  readonly model: ModelService | null;
  readonly metrics: Metrics;
  private readonly executor: JobExecutor | null;
  private closed = false;

  constructor(
    readonly config: Config,
    private readonly log: Log,
    /** Injected engine (tests of the HTTP layer); default: the model from the models folder on threads. */
    engine?: EngineFactory,
  ) {
    const role = config.ADVPROBE_ROLE;
    this.catalog = loadCatalog(config.ADVPROBE_MODELS_DIR);
    this.models = new ModelStore(config.ADVPROBE_MODELS_DIR);
    const runtime = (this.runtime = createRuntime(config, log));
    const model = (this.model = role === 'api' ? null : new ModelService(config, log, WORKER_PROGRAM, engine));
    const limitOf = (kind: keyof typeof JOB_KINDS) => timeLimit(config, JOB_KINDS[kind].timeLimit);
    const admit = runtime.admission(model ? () => model.assertReady() : null);
    this.jobs = role === 'worker' ? null : new JobService(runtime.store, runtime.queue, { timeLimit: limitOf, admit });
    this.metrics = createMetrics({ model, waiting: () => runtime.queue.waiting() });
    this.executor = model ? new JobExecutor(runtime, model, this.models, limitOf, log, this.metrics) : null;
  }

  /** Starts taking jobs once the model is ready (a loading worker must not hold any). */
  async start(): Promise<void> {
    const { model, executor } = this;
    if (!model || !executor) return;
    await executor.start();
    model.onReady(() => this.runtime.queue.resize());
    void model.whenReady().then(
      async () => {
        if (!this.closed) await this.runtime.queue.consume((job) => executor.run(job), () => model.slots());
      },
      (err: unknown) => this.log.error({ err }, 'the model did not load: this process takes no jobs'),
    );
  }

  readiness(): Readiness {
    const shared = this.runtime.readiness();
    if (!shared.ready) return { ready: false, status: 'unavailable', backend: null, reason: shared.reason };
    if (!this.model) return { ready: true, status: 'ready', backend: null };
    const state = this.model.state;
    return {
      ready: state.status === 'ready',
      status: state.status,
      backend: state.status === 'ready' ? state.info.backend : null,
      ...(state.status === 'failed' ? { reason: state.message } : {}),
    };
  }

  /**
   * Shutdown, step one: take no new jobs, fail the ones only this process holds (the
   * runtime's drain), give running ones `graceMs`, then stop them with shutting_down.
   */
  async drain(graceMs: number): Promise<void> {
    await this.runtime.drain();
    if (!this.executor) return;
    const stopped = this.runtime.queue.stopConsuming();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    if ((await Promise.race([stopped, late])) === 'late') {
      this.log.warn({ jobs: this.executor.active }, 'shutdown grace over: stopping the jobs still running');
      this.executor.abortAll();
      await stopped;
    }
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.executor?.abortAll();
    this.executor?.close();
    await this.runtime.queue.stopConsuming();
    await this.model?.close();
    await this.runtime.close();
  }
}
