import { execFile, execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { documentationFiles, ROOT } from '../../../scripts/write-docs';
import { startApp } from '../../helpers/app';
import { PIG, TEST_DATA_DIR, testDataPath } from '../../helpers/data';
import { matches, readPage, runnableBlocks, scriptOf, stepOutputs } from '../../helpers/runnable';

/**
 * Runs every `sh runnable` block of README.md and docs/ (test/helpers/runnable.ts says how)
 * against the real service on a real port, so an example cannot drift from what the
 * service answers. Blocks are kept small: the whole file takes seconds besides the model load.
 */
const blocks = documentationFiles().flatMap((file) => runnableBlocks(readPage(ROOT, file), file));
const DEFAULT_DATA = path.resolve(ROOT, '..', 'shared', 'data');

const missingTools = ['curl', 'jq', 'python3'].filter((tool) => {
  try {
    execFileSync('bash', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
});

function run(script: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd: ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}

describe('runnable documentation examples', () => {
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    app = await startApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('exist, and the tools they use are installed (.ci/run installs jq)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(missingTools).toEqual([]);
    testDataPath(...PIG); // says where the test data should be when it is missing
  });

  it.each(blocks.map((block) => [block.where, block] as const))('%s', async (_where, block) => {
    const rewrite = (line: string): string => {
      const local = line.replace(/localhost:8080/g, base);
      return TEST_DATA_DIR === DEFAULT_DATA ? local : local.replace(/\.\.\/shared\/data/g, TEST_DATA_DIR);
    };
    const { stdout, stderr, code } = await run(scriptOf(block, rewrite));
    if (code !== 0) throw new Error(`${block.where} exited ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    const outputs = stepOutputs(stdout);
    block.steps.forEach((step, i) => {
      if (step.expected === null) return;
      if (!matches(outputs[i], step.expected)) {
        throw new Error(`${block.where}, after\n  ${step.commands.join('\n  ')}\nshows\n  ${step.expected.join('\n  ')}\nbut printed\n  ${outputs[i].split('\n').join('\n  ')}`);
      }
    });
  });
});
