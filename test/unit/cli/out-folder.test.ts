import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/main';

/**
 * `advprobe attack --out DIR` makes its folder, and refuses one it cannot write, before it
 * computes anything (a long Square run used to be lost at the end on ENOENT). Both cases
 * stop before the model loads, so no ResNet50 is needed: the input here is not an image.
 */
async function run(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await main(args), err: err.join('\n') };
  } finally {
    error.mockRestore();
    stderr.mockRestore();
  }
}

describe('advprobe attack --out', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'advprobe-out-'));
  const input = path.join(dir, 'not-an-image.jpg');
  writeFileSync(input, 'these bytes are no image');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a missing folder (nested) before it decodes the image or loads the model', async () => {
    const out = path.join(dir, 'runs', 'square');
    const { code, err } = await run(['attack', input, '--attack', 'square', '--out', out]);
    expect(existsSync(out)).toBe(true);
    expect(code).not.toBe(0); // the input is no image: it got that far, the folder was made first
    expect(err).not.toMatch(/--out/);
  });

  it('refuses a folder it cannot create, with exit code 2 and the folder named', async () => {
    const out = path.join(input, 'below-a-file');
    const { code, err } = await run(['attack', input, '--out', out]);
    expect(code).toBe(2);
    expect(err).toContain(`--out ${out}: cannot write there (ENOTDIR)`);
  });
});
