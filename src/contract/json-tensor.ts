import { type AppError, appError, invalidParameter } from '../errors';

/** Stands in the JSON text for an array read here: an object no client sends. */
export const LIFTED_KEY = '$advprobeLifted';

export interface LiftedJson {
  /** The JSON text without the big arrays, each replaced by {"$advprobeLifted": index}. */
  text: string;
  /** Each lifted array's numbers, flattened row-major (nesting ignored, as `flat()` would). */
  arrays: Float32Array[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const COMMA = 0x2c;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isNumberChar = (c: number): boolean => (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;

/**
 * Takes the array values of every `"<key>":` out of a JSON body before JSON.parse: parsed
 * whole, a 20 MB tensor built a JS number (and an array per row) per element, about 18×
 * its size in memory, and four such bodies at once held 1.6 GB after they were refused.
 * Here each array goes straight into a Float32Array, and past `maxValues` it is refused
 * at once. Such an array must hold numbers only (nested or not).
 */
export function liftNumberArrays(body: Buffer, key: string, maxValues: number): LiftedJson {
  const keyBytes = Buffer.from(`"${key}"`);
  const parts: string[] = [];
  const arrays: Float32Array[] = [];
  let copied = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== QUOTE) continue;
    const end = stringEnd(body, i);
    if (end - i + 1 === keyBytes.length && body.compare(keyBytes, 0, keyBytes.length, i, end + 1) === 0) {
      let j = skipSpace(body, end + 1);
      if (body[j] === COLON && body[(j = skipSpace(body, j + 1))] === OPEN) {
        // One tensor per request: more arrays are refused before any is allocated.
        if (arrays.length > 0) throw invalidParameter(`only one '${key}' array is accepted (inputs holds exactly one tensor)`);
        const { values, next } = readNumbers(body, j, maxValues, key);
        parts.push(body.toString('utf8', copied, j), `{"${LIFTED_KEY}":${arrays.length}}`);
        arrays.push(values);
        copied = next;
        i = next - 1;
        continue;
      }
    }
    i = end;
  }
  parts.push(body.toString('utf8', copied));
  return { text: parts.join(''), arrays };
}

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(body: Buffer, start: number): number {
  for (let i = start + 1; i < body.length; i++) {
    if (body[i] === BACKSLASH) i++;
    else if (body[i] === QUOTE) return i;
  }
  return body.length;
}

function skipSpace(body: Buffer, from: number): number {
  let i = from;
  while (i < body.length && isSpace(body[i])) i++;
  return i;
}

/** JSON's own number grammar: what JSON.parse would take, no more (no `+1`, `.5`, `01`). */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * Reads the array opening at `start`: its numbers, and the index just past its end. The
 * separators are JSON's: a value after `[` or `,`, then `,` or `]` (`[]` allowed).
 */
function readNumbers(body: Buffer, start: number, maxValues: number, key: string): { values: Float32Array; next: number } {
  const values = new Float32Array(maxValues);
  const invalid = (): AppError => invalidParameter(`${key}[${count}] is not a number (or the array is not JSON)`);
  let count = 0;
  let depth = 0;
  let token = -1;
  let wantValue = true; // after [ or ,
  let opened = false; // just after [
  for (let i = start; i < body.length; i++) {
    const c = body[i];
    if (isNumberChar(c)) {
      if (token < 0 && !wantValue) throw invalid();
      if (token < 0) token = i;
      continue;
    }
    if (token >= 0) {
      if (count === maxValues) throw invalidParameter(`${key}: more than ${maxValues} values, what the largest batch (ADVPROBE_MAX_BATCH) holds`);
      const text = body.toString('latin1', token, i);
      if (!JSON_NUMBER.test(text)) throw invalid();
      values[count++] = Number(text);
      [token, wantValue, opened] = [-1, false, false];
    }
    if (isSpace(c)) continue;
    if (c === OPEN && wantValue) [depth, opened] = [depth + 1, true];
    else if (c === COMMA && !wantValue) wantValue = true;
    else if (c === CLOSE && (!wantValue || opened)) {
      [wantValue, opened] = [false, false];
      if (--depth === 0) return { values: values.subarray(0, count), next: i + 1 };
    } else throw invalid();
  }
  throw appError('invalid_json', { problem: 'is not JSON: it ends inside an array' });
}
