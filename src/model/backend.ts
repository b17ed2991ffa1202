import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** The TensorFlow.js backends an engine can run on. */
export type TfjsBackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

/** Registers and activates one TensorFlow.js backend; throws if it cannot load on this host. */
export async function activateTfjsBackend(name: TfjsBackendName): Promise<void> {
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
  await tf.ready();
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
