import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BACKENDS, type BackendName } from './engine';

export type BackendChoice = BackendName | 'auto';

/** Preference order for `auto`: native GPU, native CPU, then wasm. `cpu` (pure JS) only on request. */
const AUTO_ORDER: BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm'];

/** Registers and activates one backend; throws if it cannot load on this host. */
async function activate(name: BackendName): Promise<void> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      // Optional dependencies whose native library is downloaded at install time: where that
      // failed, the package is absent or has no binding, and the next backend is tried.
      assertNativeBinding(`@tensorflow/${name}`);
      requireOptional(`@tensorflow/${name}`);
      if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend did not initialise');
      return;
    case 'wasm':
      requireOptional('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
      return;
    case 'cpu':
      requireOptional('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
      return;
  }
}

function requireOptional(moduleName: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(moduleName);
}

/** Requiring a tfjs-node package without its binding registers kernels, then throws; look first. */
function assertNativeBinding(moduleName: string): void {
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${moduleName}/package.json`));
  } catch {
    throw new Error(`${moduleName} is not installed`);
  }
  const lib = path.join(dir, 'lib');
  const found = existsSync(lib) && readdirSync(lib).some((d) => existsSync(path.join(lib, d, 'tfjs_binding.node')));
  if (!found) throw new Error(`${moduleName} is installed without its native library (its install step could not download libtensorflow)`);
}

export interface BackendSelection {
  backend: BackendName;
  /** Why each better backend was passed over, for the logs. */
  skipped: { backend: BackendName; reason: string }[];
}

export async function selectBackend(choice: BackendChoice): Promise<BackendSelection> {
  const candidates = choice === 'auto' ? AUTO_ORDER : [choice];
  const skipped: BackendSelection['skipped'] = [];
  for (const backend of candidates) {
    try {
      await activate(backend);
      await tf.ready();
      return { backend, skipped };
    } catch (err) {
      skipped.push({ backend, reason: err instanceof Error ? err.message.split('\n')[0] : String(err) });
    }
  }
  const reasons = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new Error(`no TensorFlow.js backend could be loaded (${reasons}); choices are auto, ${BACKENDS.join(', ')}`);
}
