import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ARGUMENT_NAMES } from '../../../src/attacks/arguments';
import { argumentFields, attackTable, attackUsage } from '../../../src/attacks/docs';
import { ATTACKS } from '../../../src/attacks/registry';
import { renderPlayground } from '../../../src/http/routes/playground';

/** The attack list, the argument docs, the CLI usage and the playground come from the definitions: a new attack shows up in each. */
describe('what the attack definitions generate', () => {
  const page = renderPlayground(readFileSync(path.join(__dirname, '..', '..', '..', 'public', 'index.html'), 'utf8'));

  it('the playground offers every attack, and shows each input for exactly the attacks that take it', () => {
    expect(page).not.toContain('{{');
    const offered = [...page.matchAll(/<option value="([^"]+)"[^>]*>([^<]+)<\/option>/g)].filter(([, value]) => ATTACKS.some((a) => a.name === value));
    expect(offered.map(([, value, title]) => [value, title])).toEqual(ATTACKS.map((a) => [a.name, a.title.replace(/&/g, '&#38;')]));
    for (const name of ['steps', 'queries', 'targets', 'optimizer'] as const) {
      const shownFor = page.match(new RegExp(`<div data-for="([^"]*)"[^>]*><label for="${name}"`))![1].split(' ');
      expect(shownFor).toEqual(ATTACKS.filter((a) => name in a.arguments).map((a) => a.name));
    }
    expect(page).toMatch(/<option value="apgd-t" data-refuses-target>/);
  });

  it('each argument\'s field names every attack that takes it, with its default', () => {
    const fields = argumentFields();
    for (const name of ARGUMENT_NAMES) {
      const description = fields[name].description ?? '';
      for (const a of ATTACKS) {
        if (name in a.arguments) expect(description).toContain(a.name);
      }
    }
    expect(fields.steps.description).toContain('pgd, apgd-ce, apgd-dlr, apgd-t: default 10');
    expect(fields.loss.description).toContain('square: margin (default) or ce');
  });

  it('the docs\' table has a row per attack with its paper and calls per run', () => {
    const rows = attackTable().split('\n').slice(2);
    expect(rows.map((row) => row.split(' | ')[0])).toEqual(ATTACKS.map((a) => `| \`${a.name}\``));
    ATTACKS.forEach((a, i) => expect(rows[i]).toContain(a.doc.cost));
  });

  it('the CLI usage lists every attack with its arguments', () => {
    const usage = attackUsage().split('\n');
    expect(usage).toHaveLength(ATTACKS.length);
    expect(usage.find((line) => line.trim().startsWith('square'))).toMatch(/--queries 1000 --loss margin\|ce/);
  });
});
