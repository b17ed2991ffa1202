import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Test data that is not ours (../shared/data, see its README) is found through one
 * setting, ADVPROBE_TEST_DATA; without it, ../shared/data beside the repository.
 */
export const TEST_DATA_DIR = path.resolve(process.env.ADVPROBE_TEST_DATA ?? path.join(__dirname, '..', '..', '..', 'shared', 'data'));

export function testDataPath(...parts: string[]): string {
  const file = path.join(TEST_DATA_DIR, ...parts);
  if (!existsSync(file)) {
    throw new Error(`test data ${file} is missing: put ../shared/data beside the repository or set ADVPROBE_TEST_DATA`);
  }
  return file;
}

export const readTestFile = (...parts: string[]): Buffer => readFileSync(testDataPath(...parts));

export const PIG = ['tutorial', 'pig.jpg'];
