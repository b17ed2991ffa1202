import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';

/** The real app (real ResNet50 on wasm in its worker thread), quiet, with test overrides. */
export async function startApp(overrides: Partial<Config> = {}, waitReady = true): Promise<FastifyInstance> {
  const config = loadConfig({ ...process.env, ADVPROBE_BACKEND: process.env.ADVPROBE_BACKEND ?? 'wasm' }, overrides);
  const app = await buildApp({ config, fastify: { logger: false } });
  await app.ready();
  if (waitReady) await waitUntilReady(app);
  return app;
}

export async function waitUntilReady(app: FastifyInstance, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (app.model.state.status !== 'ready') {
    if (app.model.state.status === 'failed') throw new Error(`model failed to load: ${app.model.state.message}`);
    if (Date.now() > deadline) throw new Error('model did not become ready in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
