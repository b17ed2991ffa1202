import { matches, runnableBlocks, scriptOf, stepOutputs } from '../../helpers/runnable';

/** The runnable-example convention itself (test/helpers/runnable.ts), without a service. */
describe('runnable documentation blocks', () => {
  const page = [
    'text',
    '```sh runnable',
    'echo one',
    '# a comment',
    '# => one',
    'echo two; echo three',
    '# => two',
    '# => three',
    'echo unchecked',
    '```',
    '```sh',
    'echo not runnable',
    '```',
  ].join('\n');

  it('finds only `sh runnable` blocks and splits them into steps at the shown output', () => {
    const [block, ...rest] = runnableBlocks(page, 'page.md');
    expect(rest).toEqual([]);
    expect(block.where).toBe('page.md:2');
    expect(block.steps).toEqual([
      { commands: ['echo one', '# a comment'], expected: ['one'] },
      { commands: ['echo two; echo three'], expected: ['two', 'three'] },
      { commands: ['echo unchecked'], expected: null },
    ]);
  });

  it('marks the end of each step in one script, and splits the output back', () => {
    const [block] = runnableBlocks(page, 'page.md');
    const script = scriptOf(block, (line) => line.replace('one', 'ONE'));
    expect(script).toContain('echo ONE');
    expect(script.startsWith('set -euo pipefail\n')).toBe(true);
    expect(stepOutputs('one\n\n@@advprobe-example-step@@\ntwo\nthree\n\n@@advprobe-example-step@@\n')).toEqual(['one', 'two\nthree', '']);
  });

  it('compares exactly, with … for any text within a line', () => {
    expect(matches('{"status":"ok"}', ['{"status":"ok"}'])).toBe(true);
    expect(matches('{"status":"ok"} ', ['{"status":"ok"}'])).toBe(false);
    expect(matches('{"status":"down"}', ['{"status":"ok"}'])).toBe(false);
    expect(matches('{"id":"42","ok":true}', ['{"id":"…","ok":true}'])).toBe(true);
    expect(matches('{"id":"4\n2","ok":true}', ['{"id":"…","ok":true}'])).toBe(false);
    expect(matches('a.b', ['a…b'])).toBe(true);
    expect(matches('axb', ['a.b'])).toBe(false);
  });

  it('refuses a block that is never closed', () => {
    expect(() => runnableBlocks('```sh runnable\necho', 'open.md')).toThrow(/open\.md:1: runnable block is not closed/);
  });
});
