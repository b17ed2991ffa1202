const { TestEnvironment } = require('jest-environment-node');

/**
 * Jest's node environment gives each test file its own typed-array constructors. Native
 * addons (ONNX Runtime) create their outputs with Node's own, which then fail
 * `instanceof Float32Array` checks inside the test. Share Node's constructors instead.
 */
class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of ['Float32Array', 'Float64Array', 'Int32Array', 'Uint8Array', 'BigInt64Array', 'ArrayBuffer']) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = SharedTypedArraysEnvironment;
