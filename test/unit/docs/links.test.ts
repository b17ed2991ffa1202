import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { documentationFiles, ROOT } from '../../../scripts/write-docs';

/** Every relative link of README.md and docs/ reaches a file, and a heading where it names one. */
const withoutCode = (page: string): string => page.replace(/```[\s\S]*?```/g, '');
/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replace(/ /g, '-');

describe('documentation links', () => {
  const anchors = new Map<string, Set<string>>();
  for (const file of documentationFiles()) {
    const headings = [...withoutCode(readFileSync(path.join(ROOT, file), 'utf8')).matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1]));
    anchors.set(path.normalize(file), new Set(headings));
  }

  it.each(documentationFiles())('%s links to what exists', (file) => {
    const broken: string[] = [];
    for (const [, link] of withoutCode(readFileSync(path.join(ROOT, file), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(link)) continue; // http:, https:, mailto:
      const [target, anchor] = link.split('#');
      const resolved = target ? path.normalize(path.join(path.dirname(file), target)) : path.normalize(file);
      if (!existsSync(path.join(ROOT, resolved))) broken.push(`${link}: no file ${resolved}`);
      else if (anchor && resolved.endsWith('.md') && !anchors.get(resolved)?.has(anchor)) broken.push(`${link}: no heading #${anchor} in ${resolved}`);
    }
    expect(broken).toEqual([]);
  });
});
