/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/node-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  // Tests load the real ResNet50 (a few seconds each) and run real attacks on wasm.
  testTimeout: 180000,
};
