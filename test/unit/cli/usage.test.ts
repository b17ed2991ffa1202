import { runCli } from '../../helpers/cli';

// The commands themselves, on ResNet50: test/system/cli/cli.test.ts.
describe('npx advprobe: usage errors', () => {
  it.each([
    [['train', 'somewhere'], /--labels/],
    [['attack', 'x.jpg', '--steps', 'abc'], /steps/],
    [['attack', 'x.jpg', '--colour', 'red'], /colour/],
    [['eval', 'somewhere'], /--labels/],
    [['frobnicate'], /usage/],
  ])('%j exits 2 with a clear message before loading anything', async (args, message) => {
    const { code, err, out } = await runCli(args);
    expect(code).toBe(2);
    expect(err + out).toMatch(message);
  });
});
