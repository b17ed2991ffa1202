import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigSchema, loadConfig } from '../../src/config';

describe('config', () => {
  it('has defaults that work on a laptop', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 8080, ADVPROBE_BACKEND: 'auto', ADVPROBE_RESIZE: 'crop', ADVPROBE_MAX_UPLOAD_BYTES: 20 * 1024 * 1024, ADVPROBE_MAX_INPUT_PIXELS: 50_000_000 });
  });

  it('converts environment strings', () => {
    expect(loadConfig({ PORT: '9000', ADVPROBE_QUEUE_SIZE: '3', ADVPROBE_RESIZE: 'squash' })).toMatchObject({ PORT: 9000, ADVPROBE_QUEUE_SIZE: 3, ADVPROBE_RESIZE: 'squash' });
  });

  it('names every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', ADVPROBE_BACKEND: 'tpu' })).toThrow(/PORT.*ADVPROBE_BACKEND|ADVPROBE_BACKEND.*PORT/);
  });

  it('is documented: docs/operations.md names every setting', () => {
    const doc = readFileSync(path.join(__dirname, '..', '..', 'docs/operations.md'), 'utf8');
    for (const key of Object.keys(ConfigSchema.properties)) expect(doc).toContain(`\`${key}\``);
  });
});
