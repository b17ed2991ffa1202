/**
 * The runnable examples of README.md and docs/: fenced blocks whose info string is
 * `sh runnable`. A block runs in one bash (`set -euo pipefail`, from the repository root), so
 * its lines share variables. A run of `# => …` lines is the exact output of the commands
 * since the previous such run (or the start of the block), trailing blanks aside; in it `…`
 * stands for any text on that line. Other `# …` lines are comments, never checked.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface Step {
  /** The commands, as written. */
  commands: string[];
  /** The output shown after them; null when the commands are not followed by `# =>` lines. */
  expected: string[] | null;
}

export interface RunnableBlock {
  /** `file:line` of the block's opening fence. */
  where: string;
  steps: Step[];
}

const OPEN = /^```sh runnable\s*$/;
const EXPECTED = /^# => ?(.*)$/;

export function runnableBlocks(markdown: string, file: string): RunnableBlock[] {
  const lines = markdown.split('\n');
  const blocks: RunnableBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!OPEN.test(lines[i])) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
    if (i === lines.length) throw new Error(`${file}:${start + 1}: runnable block is not closed`);
    blocks.push({ where: `${file}:${start + 1}`, steps: stepsOf(body) });
  }
  return blocks;
}

function stepsOf(body: string[]): Step[] {
  const steps: Step[] = [];
  let step: Step = { commands: [], expected: null };
  for (const line of body) {
    const shown = EXPECTED.exec(line);
    if (shown) {
      (step.expected ??= []).push(shown[1]);
      continue;
    }
    if (step.expected) {
      steps.push(step);
      step = { commands: [], expected: null };
    }
    step.commands.push(line);
  }
  if (step.commands.length > 0 || step.expected) steps.push(step);
  return steps;
}

export const STEP_MARK = '@@advprobe-example-step@@';

/** One bash script for the block; each step's output ends with a line STEP_MARK. */
export function scriptOf(block: RunnableBlock, rewrite: (line: string) => string): string {
  const parts = ['set -euo pipefail'];
  for (const step of block.steps) {
    parts.push(...step.commands.map(rewrite));
    parts.push(`printf '\\n%s\\n' '${STEP_MARK}'`);
  }
  return parts.join('\n') + '\n';
}

/** Splits the script's stdout into each step's output, trailing blanks trimmed. */
export function stepOutputs(stdout: string): string[] {
  return stdout.split(`\n${STEP_MARK}\n`).map((part) => part.replace(/\s+$/, ''));
}

/** Whether a step's output is what the block shows (`…` matches any text within a line). */
export function matches(output: string, expected: string[]): boolean {
  const want = expected.join('\n').replace(/\s+$/, '');
  if (!want.includes('…')) return output === want;
  const pattern = want
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^\\n]*');
  return new RegExp(`^${pattern}$`).test(output);
}

export const readPage = (root: string, file: string): string => readFileSync(path.join(root, file), 'utf8');
