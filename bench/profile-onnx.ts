/**
 * `npm run profile:onnx`: where the ONNX Runtime engine's time goes, per op type, for the
 * forward model and the gradient model (forward + input gradient: an attack step), at
 * batch 1 and 8. Uses ONNX Runtime's own session profiling: after a warm-up, CALLS (10)
 * consecutive runs are profiled and the kernel times summed per op type, in ms per run
 * (convolutions split into the forward ones, the backward ones and the ReLU masks).
 * Usage: npm run profile:onnx [-- CALLS]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../src/config';
import { lowerKerasModel } from '../src/model/layer-graph';
import { modelFolder, readManifest } from '../src/model/manifest';
import { onnxSessionOptions } from '../src/model/onnx/onnx-engine';
import { IO, buildOnnxModels } from '../src/model/onnx/onnx-network';
import { readLayersModel } from '../src/model/weights';

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

const calls = Number(process.argv[2] ?? 10);
const threads = Number(process.env.BENCH_THREADS ?? 2);

/** The op type; convolutions split by role, after the node names onnx-network.ts gives them. */
function kind(op: string, node: string): string {
  if (op !== 'Conv') return op;
  if (node.startsWith('relu_mask')) return 'Conv: ReLU masks';
  if (node.startsWith('d_')) return 'Conv: backward';
  return 'Conv: forward';
}

async function profile(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<{ wallMs: number; byOp: Map<string, number> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'advprobe-profile-'));
  const options = onnxSessionOptions(threads);
  // Warm up in a session of its own, so the profile holds only steady-state runs.
  const warm = await ort.InferenceSession.create(model, options);
  for (let i = 0; i < 3; i++) await warm.run(feeds);
  await warm.release();
  const session = await ort.InferenceSession.create(model, { ...options, enableProfiling: true, profileFilePrefix: path.join(dir, 'run') });
  for (let i = 0; i < 2; i++) await session.run(feeds);
  const started = performance.now();
  for (let i = 0; i < calls; i++) await session.run(feeds);
  const wallMs = (performance.now() - started) / calls;
  session.endProfiling();
  await session.release();
  const file = readFileSync(path.join(dir, readdirSync(dir)[0]), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const events = JSON.parse(file) as ProfileEvent[];
  const byOp = new Map<string, number>();
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').length;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = kind(e.args?.op_name ?? '?', e.name.replace(/_kernel_time$/, ''));
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur / 1000 / runs);
  }
  return { wallMs, byOp };
}

async function main(): Promise<void> {
  const { ADVPROBE_MODELS_DIR: modelsDir } = loadConfig();
  const manifest = readManifest(modelsDir, 'resnet50');
  const files = readLayersModel(path.join(modelFolder(modelsDir, manifest), manifest.modelFile));
  const models = buildOnnxModels(lowerKerasModel(files, manifest.logitsLayer), manifest.preprocessing);
  for (const batch of [1, 8]) {
    const pixels = new ort.Tensor('float32', Float32Array.from({ length: batch * 224 * 224 * 3 }, () => Math.random()), [batch, 224, 224, 3]);
    const a = new Float32Array(batch * 1000);
    for (let n = 0; n < batch; n++) a[n * 1000] = -1;
    const forward = await profile(models.forward, { [IO.pixels]: pixels });
    const step = await profile(models.gradient, { [IO.pixels]: pixels, [IO.a]: new ort.Tensor('float32', a, [batch, 1000]), [IO.b]: new ort.Tensor('float32', new Float32Array(batch * 1000), [batch, 1000]) });
    const kernels = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);
    console.log(`\nbatch ${batch}: forward ${forward.wallMs.toFixed(1)} ms per run (kernels ${kernels(forward.byOp).toFixed(1)}), step ${step.wallMs.toFixed(1)} ms (kernels ${kernels(step.byOp).toFixed(1)}): step/forward ${(step.wallMs / forward.wallMs).toFixed(2)}×`);
    const ops = [...new Set([...forward.byOp.keys(), ...step.byOp.keys()])].sort((x, y) => (step.byOp.get(y) ?? 0) - (step.byOp.get(x) ?? 0));
    console.log(`${'op type'.padEnd(22)}${'forward ms'.padStart(12)}${'step ms'.padStart(12)}${'step %'.padStart(9)}`);
    for (const op of ops) {
      const s = step.byOp.get(op) ?? 0;
      console.log(`${op.padEnd(22)}${(forward.byOp.get(op) ?? 0).toFixed(2).padStart(12)}${s.toFixed(2).padStart(12)}${((100 * s) / kernels(step.byOp)).toFixed(1).padStart(9)}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
