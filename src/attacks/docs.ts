/**
 * What the attack definitions tell the outside: each argument's request field with a
 * description that names the attacks taking it and their defaults, the attack-name field,
 * the CLI's usage lines and the playground's choices. Generated, so a new attack or a new
 * default shows up everywhere at once (openapi.yaml through `npm run openapi`).
 */
import { CloneType, Type, type TOptional } from '@sinclair/typebox';
import type { AttackDefinition } from './algorithm';
import { ARGUMENT_NAMES, ARGUMENTS, type ArgumentName } from './arguments';
import { ATTACK_NAMES, ATTACKS, type AttackName } from './registry';

const takers = (argument: ArgumentName) => ATTACKS.filter((a) => argument in a.arguments);

/** "pgd, apgd-ce: default 10; fgsm: default ε": the attacks that take it, grouped by their default. */
function defaultsOf(argument: ArgumentName): string {
  const groups = new Map<string, string[]>();
  for (const a of takers(argument)) {
    const text = argument === 'loss' ? orList([`${a.losses[0]} (default)`, ...a.losses.slice(1)]) : `default ${a.arguments[argument]}`;
    groups.set(text, [...(groups.get(text) ?? []), a.name]);
  }
  return [...groups].map(([text, names]) => `${names.join(', ')}: ${text}`).join('; ');
}

export type ArgumentFields = { [K in ArgumentName]: TOptional<(typeof ARGUMENTS)[K]> };

/** The request fields of the attacks' arguments (attacks and evaluations take them under these names). */
export function argumentFields(): ArgumentFields {
  // A copy with the longer description (CloneType's options would not override the schema's own).
  const entries = ARGUMENT_NAMES.map((name) => [name, Type.Optional(CloneType({ ...ARGUMENTS[name], description: `${ARGUMENTS[name].description}. ${defaultsOf(name)}` }))]);
  return Object.fromEntries(entries) as ArgumentFields;
}

/** "a, b or c". */
const orList = (items: readonly string[]): string => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`);

export const attackNamesText = (): string => orList(ATTACK_NAMES);

/** The CLI's lines on attacks: each with its title and its arguments' defaults (losses: the default first). */
export function attackUsage(): string {
  return ATTACKS.map((a) => {
    const args = Object.entries(a.arguments).map(([name, value]) => `--${name} ${name === 'loss' ? a.losses.join('|') : value}`);
    return `  ${a.name.padEnd(9)} ${a.title}${args.length ? `: ${args.join(' ')}` : ''}`;
  }).join('\n');
}

/** The docs' table of the attacks (docs/api/attacks.md, `npm run docs`): paper, arguments with defaults, what is fixed, calls per run. */
export function attackTable(): string {
  const rows = ATTACKS.map((a: AttackDefinition) => {
    const args = Object.entries(a.arguments).map(([name, value]) => `\`${name}\` ${name === 'loss' ? a.losses.join(' \\| ') : value}`);
    const fixed = [a.losses.length === 1 ? `loss ${a.losses[0]}` : '', a.doc.fixed ?? ''].filter(Boolean).join('; ');
    return `| \`${a.name}\` | ${a.doc.paper} | ${args.join(', ')} | ${fixed} | ${a.doc.cost} |`;
  });
  return ['| `attack` | paper | arguments (defaults) | fixed | engine calls per run |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** The playground's attack choices and, per argument, the attacks whose form shows it. */
export function playgroundChoices(): { options: { value: AttackName; title: string; refusesTarget: boolean }[]; fieldsFor: Record<ArgumentName, AttackName[]> } {
  const fieldsFor = Object.fromEntries(ARGUMENT_NAMES.map((name) => [name, takers(name).map((a) => a.name)])) as Record<ArgumentName, AttackName[]>;
  const options = ATTACKS.map((a: AttackDefinition) => ({ value: a.name, title: a.title, refusesTarget: a.refusesTarget !== undefined }));
  return { options, fieldsFor };
}
