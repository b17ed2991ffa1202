import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = path.join(__dirname, '..', '..', '..', 'scripts', 'fetch-models.js');
const manifest = path.join(__dirname, '..', '..', '..', 'models', 'resnet50.json');

describe('scripts/fetch-models.js', () => {
  it('refuses a package whose integrity does not match, says what to do, and leaves nothing behind', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'advprobe-models-'));
    const bad = JSON.parse(readFileSync(manifest, 'utf8'));
    bad.source.integrity = 'sha512-' + Buffer.alloc(64, 1).toString('base64');
    writeFileSync(path.join(dir, 'resnet50.json'), JSON.stringify(bad));
    const result = await run('node', [script], { env: { ...process.env, ADVPROBE_MODELS_DIR: dir } }).catch((e: { code: number; stderr: string }) => e);
    expect(result).toMatchObject({ code: 1 });
    expect((result as { stderr: string }).stderr).toMatch(/npm run fetch-models/);
    expect(readdirSync(dir)).toEqual(['resnet50.json']);
  });

  it('does nothing when the model is already complete', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'advprobe-models-'));
    copyFileSync(manifest, path.join(dir, 'resnet50.json'));
    const target = path.join(dir, 'resnet50');
    require('node:fs').mkdirSync(target);
    writeFileSync(path.join(target, '.complete'), '{}');
    const { stdout } = await run('node', [script], { env: { ...process.env, ADVPROBE_MODELS_DIR: dir } });
    expect(stdout).toMatch(/already present/);
  });
});
