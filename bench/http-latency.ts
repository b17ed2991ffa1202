/**
 * `npm run bench:http`: the real server over loopback under autocannon, bounded: POST
 * /v1/classify for DURATION seconds at 1 and at 8 connections, then a fixed number of
 * 10-step attacks (POST /v1/attacks, defaults but no early stop) at 1 and at 4 connections.
 * Prints requests/s (requests ÷ wall time), latency p50/p99, and from the server's own metrics
 * the mean queue wait against time in the worker per job (which, with dynamic batching,
 * includes waiting for the batch's turn) and the mean images per model call.
 * Usage: npm run bench:http [-- DURATION_S ATTACKS]
 */
import autocannon from 'autocannon';
import { meanBetween, PIG_PATH, readHistogram, startServer } from './support';

type Load = { name: string; type: 'classify' | 'attack'; connections: number; options: Partial<autocannon.Options> & { url: string } };

async function main(): Promise<void> {
  const duration = Number(process.argv[2] ?? 15);
  const attacks = Number(process.argv[3] ?? 8);
  const { app, base } = await startServer();
  const backend = app.model.state.status === 'ready' ? app.model.state.info.backend : '?';
  const image = { type: 'file' as const, path: PIG_PATH };
  const text = (value: string) => ({ type: 'text' as const, value });
  const loads: Load[] = [1, 8].map((connections) => ({
    name: `POST /v1/classify, ${connections} connection${connections > 1 ? 's' : ''}, ${duration} s`,
    type: 'classify',
    connections,
    options: { url: `${base}/v1/classify`, form: { image }, duration },
  }));
  for (const connections of [1, 4]) {
    loads.push({
      name: `POST /v1/attacks (10 steps), ${connections} connection${connections > 1 ? 's' : ''}, ${attacks} requests`,
      type: 'attack',
      connections,
      options: { url: `${base}/v1/attacks`, form: { image, steps: text('10'), earlyStop: text('false'), quantize: text('round'), images: text('none'), seed: text('1') }, amount: attacks },
    });
  }
  console.log(`backend ${backend}, ${app.model.workerCount} worker(s), loopback`);
  try {
    await autocannon({ url: `${base}/v1/classify`, method: 'POST', form: { image }, amount: 5, connections: 1 }); // warm-up
    for (const load of loads) {
      const histograms = async () => ({
        queue: await readHistogram(base, 'advprobe_queue_wait_seconds', `type="${load.type}"`),
        compute: await readHistogram(base, 'advprobe_compute_seconds', `type="${load.type}"`),
        forward: await readHistogram(base, 'advprobe_batch_size', 'kind="forward"'),
        gradient: await readHistogram(base, 'advprobe_batch_size', 'kind="gradient"'),
      });
      const before = await histograms();
      const result = await autocannon({ method: 'POST', connections: load.connections, timeout: 600, ...load.options });
      const after = await histograms();
      const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
      const batch = load.type === 'classify' ? meanBetween(before.forward, after.forward) : meanBetween(before.gradient, after.gradient);
      const errors = result.errors + result.timeouts + result.non2xx;
      console.log(
        `${load.name}: ${(result.requests.total / result.duration).toFixed(2)} req/s, latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ` +
          `queue wait ${ms(meanBetween(before.queue, after.queue))}, in the worker ${ms(meanBetween(before.compute, after.compute))} per job (means); ` +
          `${batch.toFixed(2)} images per ${load.type === 'classify' ? 'forward' : 'gradient'} call; ${result.requests.total} requests, ${errors} errors`,
      );
    }
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
