#!/usr/bin/env node
'use strict';
// The CLI: from the TypeScript sources when tsx is installed (a development checkout),
// otherwise from the build (npm run build).
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
let entry = path.join(root, 'dist', 'cli', 'main.js');
try {
  require.resolve('tsx/cjs', { paths: [root] });
  if (fs.existsSync(path.join(root, 'src', 'cli', 'main.ts'))) {
    require(require.resolve('tsx/cjs', { paths: [root] }));
    entry = path.join(root, 'src', 'cli', 'main.ts');
  }
} catch {
  // no tsx: use the build
}
require(entry)
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
