/**
 * Writes the generated tables into README.md and docs/ (`npm run docs`): the settings table
 * from src/config.ts and the request-field tables from the request schemas, each between
 * `<!-- generated:NAME -->` and `<!-- /generated -->`. test/unit/docs/generated-tables.test.ts
 * regenerates them in memory and fails while a page is stale.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, OptionalKind, type TObject, type TSchema } from '@sinclair/typebox';
import { attackTable } from '../src/attacks/docs';
import { ConfigSchema } from '../src/config';
import { ERRORS, type ErrorDefinition } from '../src/errors/registry';
import { AttackFields } from '../src/contract/attack-params';
import { ClassifyFields } from '../src/contract/classify';
import { EvaluationFields } from '../src/contract/evaluation-params';
import { TrainingFields } from '../src/contract/training-params';

export const ROOT = path.join(__dirname, '..');

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const code = (text: string): string => `\`${text}\``;

/** `a`, `b` or `c`. */
function either(values: readonly string[]): string {
  const quoted = values.map(code);
  return quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/** The literal values of a union of literals; null for any other schema. */
function literals(schema: TSchema): string[] | null {
  if (schema[Kind] !== 'Union') return null;
  const members = schema.anyOf as TSchema[];
  return members.every((m) => m[Kind] === 'Literal') ? members.map((m) => String(m.const)) : null;
}

/** What a request field takes, from its schema. */
function valueType(schema: TSchema): string {
  const values = literals(schema);
  if (values) return either(values);
  const bounds = (unit: string): string => {
    const { minimum, maximum } = schema as { minimum?: number; maximum?: number };
    if (minimum !== undefined && maximum !== undefined) return `${unit}, ${minimum}–${maximum}`;
    if (minimum !== undefined) return `${unit} ≥ ${minimum}`;
    return maximum !== undefined ? `${unit} ≤ ${maximum}` : unit;
  };
  switch (schema[Kind]) {
    case 'Integer':
      return bounds('integer');
    case 'Number':
      return bounds('number');
    case 'Boolean':
      return '`true` or `false`';
    case 'String':
      // Fraction fields (attack-params.ts) carry a pattern of a number or a/b.
      if (typeof schema.pattern === 'string' && schema.pattern.includes('/')) return 'number or fraction (`2/255`)';
      return schema.maxLength !== undefined ? `text, ≤ ${schema.maxLength} characters` : 'text';
    default:
      return 'text';
  }
}

/** The field table of one request schema: field, value, required, meaning. */
export function fieldTable(schema: TObject): string {
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties).map(([name, property]) => {
    const isRequired = required.has(name) && property[OptionalKind] !== 'Optional';
    const meaning = [property.description, property.default !== undefined ? `default ${code(String(property.default))}` : undefined].filter(Boolean).join('; ');
    return `| ${code(name)} | ${cell(valueType(property))} | ${isRequired ? 'yes' : ''} | ${cell(meaning || '')} |`;
  });
  return ['| field | value | required | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** A setting's default as a reader wants it: sizes in MiB, long times in hours, paths relative to the repository. */
function settingDefault(name: string, value: unknown): string {
  if (value === '') return 'empty';
  if (typeof value === 'string' && path.isAbsolute(value) && value.startsWith(ROOT)) return `${code(path.relative(ROOT, value) + '/')} of the repository`;
  if (typeof value === 'number' && name.endsWith('_BYTES') && value % (1024 * 1024) === 0) return `${code(String(value))} (${value / 1024 / 1024} MiB)`;
  if (typeof value === 'number' && name.endsWith('_MS') && value >= 3_600_000 && value % 3_600_000 === 0) return `${code(String(value))} (${value / 3_600_000} h)`;
  return code(String(value));
}

/** The settings table from src/config.ts: variable, default, meaning (with the allowed values of a choice). */
export function settingsTable(): string {
  const rows = Object.entries(ConfigSchema.properties).map(([name, property]) => {
    const values = literals(property as TSchema);
    const meaning = [(property as TSchema).description as string, values ? `one of ${either(values)}` : undefined].filter(Boolean).join('; ');
    return `| ${code(name)} | ${cell(settingDefault(name, (property as TSchema).default))} | ${cell(meaning)} |`;
  });
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Every error code from the registry (src/errors/registry.ts): status, headers, message, the operations that answer it. */
export function errorsTable(): string {
  const rows = Object.entries(ERRORS as Record<string, ErrorDefinition>)
    .sort(([a, x], [b, y]) => x.status - y.status || a.localeCompare(b))
    .map(([name, e]) => {
      const headers = Object.entries(e.headers ?? {}).map(([h, v]) => `${h}: ${v}`).join(', ');
      const message = e.message === '{detail}' ? 'the site\'s own sentence, naming the field or limit' : e.message;
      return `| ${code(name)} | ${e.status} | ${cell(headers)} | ${cell(message)} | ${cell(e.in.join(', ') || '—')} |`;
    });
  return ['| code | status | headers | message | answered by operations |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** Every generated table by its marker name. */
export function generatedTables(): Record<string, string> {
  return {
    settings: settingsTable(),
    errors: errorsTable(),
    'classify-fields': fieldTable(ClassifyFields),
    'attack-fields': fieldTable(AttackFields),
    attacks: attackTable(),
    'evaluation-fields': fieldTable(EvaluationFields),
    'training-fields': fieldTable(TrainingFields),
  };
}

const MARKED = /(<!-- generated:([a-z0-9-]+) -->)[\s\S]*?(<!-- \/generated -->)/g;

/** The page with every marked table replaced by its generated text; throws on an unknown name. */
export function fillTables(page: string, tables: Record<string, string>, file = 'page'): string {
  return page.replace(MARKED, (_match, open: string, name: string, close: string) => {
    if (!(name in tables)) throw new Error(`${file}: no generated table named "${name}" (known: ${Object.keys(tables).join(', ')})`);
    return `${open}\n${tables[name]}\n${close}`;
  });
}

/** README.md and every Markdown page under docs/, relative to the repository root. */
export function documentationFiles(): string[] {
  const pages: string[] = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.md')) pages.push(rel);
    }
  };
  walk('docs');
  return pages.sort();
}

/** The pages whose generated tables are not what the schemas generate now. */
export function stalePages(): string[] {
  const tables = generatedTables();
  return documentationFiles().filter((file) => {
    const page = readFileSync(path.join(ROOT, file), 'utf8');
    return fillTables(page, tables, file) !== page;
  });
}

if (require.main === module) {
  const tables = generatedTables();
  for (const file of documentationFiles()) {
    const page = readFileSync(path.join(ROOT, file), 'utf8');
    const filled = fillTables(page, tables, file);
    if (filled !== page) {
      writeFileSync(path.join(ROOT, file), filled);
      console.log(`wrote ${file}`);
    }
  }
}
