const { readdirSync } = require('node:fs');
const path = require('node:path');

/**
 * The suite in four tiers, one folder each under test/ (test/README.md says which tier a
 * test belongs to); inside a tier, folders mirror src/. `npm test` runs them all (CI);
 * `npm run test:unit` etc. one.
 */
const TIERS = {
  unit: 'tiny and exact models: no ResNet50, no HTTP server',
  http: 'the app over an injected tiny model (startTinyApp): validation, errors, limits',
  engine: 'the real ResNet50 engines: agreement, gradients, leaks',
  system: 'the real model end to end: the app, processes, Redis, Chromium, the CLI',
};

// A test file outside the tier folders would run in no project, silently: refuse it.
const testDir = path.join(__dirname, 'test');
const stray = (function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return dir === testDir && entry.name in TIERS ? [] : walk(full);
    return entry.name.endsWith('.test.ts') ? [path.relative(__dirname, full)] : [];
  });
})(testDir);
if (stray.length) {
  throw new Error(`test files outside a tier folder (test/{${Object.keys(TIERS).join(',')}}/, see test/README.md): ${stray.join(', ')}`);
}

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  // Jest reads the time limit from here only (a project's own is ignored). Engine and system
  // tests load the real ResNet50 and run real attacks; unit and http ones take milliseconds.
  testTimeout: 180000,
  projects: Object.keys(TIERS).map((name) => ({
    displayName: name,
    testEnvironment: '<rootDir>/test/node-environment.js',
    roots: [`<rootDir>/test/${name}`],
    testMatch: ['**/*.test.ts'],
    transform: { '^.+\\.ts$': ['@swc/jest'] },
  })),
};
