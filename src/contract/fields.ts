import { Kind, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { appError, invalidParameter } from '../errors';

/**
 * The one way a request's text fields become values, whatever carried them: multipart
 * text fields, the query string, the CLI's flags. Strict on purpose, so that a value means
 * the same number everywhere or is refused everywhere: numbers are decimal, exponent form
 * included (`1e2` is 100); hex, blanks, `Infinity` and trailing garbage are errors; an
 * integer field refuses `1.5`; booleans are `true` or `false`. A field sent twice (a
 * repeated query key) is an error, as it is in multipart.
 */
export function parseFields<S extends TObject>(schema: S, raw: Record<string, unknown>): Static<S> {
  const known = Object.keys(schema.properties);
  const value: Record<string, unknown> = {};
  for (const [field, text] of Object.entries(raw)) {
    // hasOwn, not `in`: `__proto__` or `constructor` is an unknown field, not an inherited one.
    if (!Object.hasOwn(schema.properties, field)) throw appError('unknown_field', { field, accepted: known.join(', ') });
    const property = schema.properties[field] as TSchema;
    if (Array.isArray(text)) throw appError('duplicate_field', { field });
    value[field] = typeof text === 'string' ? fromText(field, property, text) : text;
  }
  const withDefaults = Value.Default(schema, value);
  if (Value.Check(schema, withDefaults)) return withDefaults as Static<S>;
  const error = Value.Errors(schema, withDefaults).First();
  const field = error?.path.replace(/^\//, '') || 'request';
  throw invalidParameter(`${field}: ${error?.message ?? 'invalid value'} (got ${JSON.stringify(raw[field] ?? null)})`);
}

/** A plain decimal number, optionally signed, with an optional fraction and exponent. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function fromText(field: string, schema: TSchema, text: string): unknown {
  switch (schema[Kind]) {
    case 'Integer':
    case 'Number': {
      const integer = schema[Kind] === 'Integer';
      const number = NUMBER.test(text) ? Number(text) : NaN;
      if (!Number.isFinite(number)) throw invalidParameter(`${field}: must be a number (got ${JSON.stringify(text)})`);
      if (integer && !Number.isInteger(number)) throw invalidParameter(`${field}: must be an integer (got ${JSON.stringify(text)})`);
      return number;
    }
    case 'Boolean':
      if (text === 'true' || text === 'false') return text === 'true';
      throw invalidParameter(`${field}: must be true or false (got ${JSON.stringify(text)})`);
    default:
      return text; // strings and unions of string literals: the schema check decides
  }
}
