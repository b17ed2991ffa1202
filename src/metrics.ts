import type { JobKind } from './jobs/job-record';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobTiming } from './runtime/model-queue';
import type { ModelService } from './runtime/model-service';

/**
 * The service's Prometheus metrics, one registry per app. Names follow Prometheus
 * conventions (seconds, _total) and Triton/TorchServe's split of a request into queue
 * time and compute time. Each is described in the README.
 */
export function createMetrics({ model, waiting }: { model: ModelService | null; waiting: () => Promise<number> }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'advprobe_' });
  const registers = [registry];
  const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
  const metrics = {
    registry,
    httpRequests: new Counter({ name: 'advprobe_http_requests_total', help: 'HTTP requests by method, route and status code', labelNames: ['method', 'route', 'status_code'], registers }),
    httpDuration: new Histogram({ name: 'advprobe_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route', 'status_code'], buckets: seconds, registers }),
    queueWait: new Histogram({ name: 'advprobe_queue_wait_seconds', help: 'Time a job waited for the model worker, by job type', labelNames: ['type'], buckets: seconds, registers }),
    compute: new Histogram({ name: 'advprobe_compute_seconds', help: 'Time a job ran in the model worker, by job type', labelNames: ['type'], buckets: seconds, registers }),
    batchSize: new Histogram({
      name: 'advprobe_batch_size',
      help: 'Images per model call, by kind (forward or gradient): concurrent jobs merged by the dynamic batcher',
      labelNames: ['kind'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    }),
    jobs: new Counter({ name: 'advprobe_jobs_total', help: 'Finished jobs by type and final status', labelNames: ['type', 'status'], registers }),
    attackOutcomes: new Counter({
      name: 'advprobe_attack_outcomes_total',
      help: 'Succeeded attack jobs by whether the attack worked, as float and as the returned 8-bit PNG',
      labelNames: ['adversarial', 'quantized_adversarial'],
      registers,
    }),
    queueLength: new Gauge({
      name: 'advprobe_queue_length',
      help: 'Jobs waiting for a model worker (in Redis: over every process)',
      registers,
      async collect() {
        this.set(await waiting().catch(() => 0));
      },
    }),
    tensors: new Gauge({
      name: 'advprobe_model_tensors',
      help: 'Tensors held by the model worker (its weights included); constant when nothing leaks',
      registers,
      async collect() {
        if (model?.state.status === 'ready') this.set(await model.tensorCount());
      },
    }),
    backend: new Gauge({
      name: 'advprobe_backend_info',
      help: '1 for the model and backend in use (0 labels until loaded)',
      labelNames: ['model', 'backend', 'status'],
      registers,
      collect() {
        this.reset();
        if (!model) return; // an API process loads no model
        const state = model.state;
        this.set({ model: model.manifest.name, backend: state.status === 'ready' ? state.info.backend : 'none', status: state.status }, 1);
      },
    }),
  };
  model?.onBatch((kind, images) => metrics.batchSize.observe({ kind: kind === 'logits' ? 'forward' : 'gradient' }, images));
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Records one job that ran in the model worker: its queue wait and compute time. */
export function observeModelJob(metrics: Metrics, type: JobKind, timing: JobTiming): void {
  metrics.queueWait.observe({ type }, timing.queueMs / 1000);
  metrics.compute.observe({ type }, timing.computeMs / 1000);
}
