import { readFileSync } from 'node:fs';
import path from 'node:path';
import { documentationFiles, fillTables, generatedTables, ROOT, stalePages } from '../../../scripts/write-docs';

/** The generated tables (settings, request fields) in README.md and docs/ match the schemas. No model. */
describe('generated documentation tables', () => {
  it('are current: `npm run docs` would change nothing', () => {
    expect(stalePages()).toEqual([]); // a stale page: run `npm run docs` and commit it
  });

  it('each appear in the documentation', () => {
    const pages = documentationFiles().map((file) => readFileSync(path.join(ROOT, file), 'utf8')).join('\n');
    for (const name of Object.keys(generatedTables())) expect(pages).toContain(`<!-- generated:${name} -->`);
  });

  it('name every setting and every request field', () => {
    const tables = generatedTables();
    expect(tables.settings).toContain('| `ADVPROBE_REDIS_URL` | empty |');
    expect(tables['attack-fields']).toMatch(/^\| `epsilon` \| number or fraction/m);
    expect(tables['training-fields']).toMatch(/^\| `name` \| text \| yes \|/m);
  });

  it('refuses a marker with no table of that name', () => {
    expect(() => fillTables('<!-- generated:nothing -->\n<!-- /generated -->', generatedTables(), 'x.md')).toThrow(/x\.md: no generated table named "nothing"/);
  });
});
