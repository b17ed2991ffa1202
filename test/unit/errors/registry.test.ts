import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AppError, appError, ERRORS, QueueFullError, renderTemplate, type ErrorCode } from '../../../src/errors';
import { toJobError } from '../../../src/jobs/job-executor';

const SRC = path.join(__dirname, '..', '..', '..', 'src');
const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
const placeholders = (template: string): string[] => [...template.matchAll(/\{([A-Za-z]\w*)\}/g)].map((m) => m[1]);

describe('the error registry', () => {
  const entries = Object.entries(ERRORS) as [ErrorCode, (typeof ERRORS)[ErrorCode]][];

  it('gives every code a 4xx or 5xx status, a message template and the operations that answer it', () => {
    expect(entries.length).toBeGreaterThan(40);
    for (const [code, definition] of entries) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(Number.isInteger(definition.status) && definition.status >= 400 && definition.status <= 599).toBe(true);
      expect(definition.message.length).toBeGreaterThan(0);
      expect(Array.isArray(definition.in)).toBe(true);
    }
  });

  it('renders every template: each placeholder filled, status and headers as declared', () => {
    for (const [code, definition] of entries) {
      const names = [...placeholders(definition.message), ...Object.values((definition as { headers?: Record<string, string> }).headers ?? {}).flatMap(placeholders)];
      const params = Object.fromEntries(names.map((name) => [name, `<${name}>`]));
      const err = appError(code as 'invalid_parameter', params as { detail: string });
      expect(err).toBeInstanceOf(AppError);
      expect([err.code, err.statusCode]).toEqual([code, definition.status]);
      expect(err.message).not.toMatch(/\{[A-Za-z]\w*\}/);
      for (const name of names) expect(`${err.message} ${Object.values(err.headers).join(' ')}`).toContain(`<${name}>`);
      for (const value of Object.values(err.headers)) expect(value).not.toMatch(/[{}]/);
    }
  });

  it('keeps the contract: statuses, messages and headers clients see', () => {
    expect(appError('queue_full', { retryAfter: 3 })).toMatchObject({ statusCode: 503, message: 'the model queue is full; retry later', headers: { 'retry-after': '3' } });
    expect(appError('unauthorized').headers).toEqual({ 'www-authenticate': 'Bearer' });
    expect(appError('job_finished', { id: 'j1', status: 'succeeded' }).message).toBe('job j1 has already succeeded');
    expect(appError('missing_labels', { command: 'eval' }).message).toBe('eval needs --labels FILE (JSON: file name → class index, label name, or {"index": n})');
    expect(new QueueFullError(7)).toMatchObject({ code: 'queue_full', statusCode: 503, headers: { 'retry-after': '7' } });
    expect(renderTemplate('{a} and {b}', { a: 1 })).toBe('1 and {b}');
  });

  it('is checked by the compiler: an unknown code, a missing or unknown parameter does not compile', () => {
    const attempts = [
      // @ts-expect-error an unknown code
      () => appError('no_such_code'),
      // @ts-expect-error a missing parameter
      () => appError('queue_full'),
      // @ts-expect-error one parameter of two
      () => appError('job_finished', { id: 'x' }),
      // @ts-expect-error a parameter the message does not have
      () => appError('empty_image', { reason: 'x' }),
    ];
    expect(attempts).toHaveLength(4);
  });

  it('keeps internal messages out of job records: anything but an AppError is internal_error', () => {
    expect(toJobError(new Error('ECONNREFUSED 10.0.0.7:6379'))).toEqual({ code: 'internal_error', message: ERRORS.internal_error.message, statusCode: 500 });
    const withCause = appError('queue_unavailable', {}, { cause: new Error('ECONNREFUSED 10.0.0.7:6379') });
    expect(toJobError(withCause).message).not.toContain('ECONNREFUSED');
    expect(withCause.cause).toBeInstanceOf(Error);
  });

  it('is where codes are declared: no call site builds an AppError from a literal status and code, and every code is used', () => {
    const sources = sourceFiles(SRC).filter((f) => f !== path.join(SRC, 'errors', 'registry.ts'));
    const text = sources.map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(text.match(/new AppError\(\s*\d{3}\s*,\s*'/g) ?? []).toEqual([]);
    expect(text).not.toMatch(/badRequest\(/);
    const unused = entries.map(([code]) => code).filter((code) => !text.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });
});
