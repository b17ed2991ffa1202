import type {} from '@fastify/multipart'; // request.parts() / isMultipart() types
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Static, TObject } from '@sinclair/typebox';
import { parseFields } from '../contract/fields';
import { AppError, appError } from '../errors';

export const IMAGE_FIELD = 'image';

/** The one limit on an image set's bytes, evaluations' and trainings' alike. */
const IMAGE_SET_BYTES_SETTING = 'ADVPROBE_MAX_EVALUATION_BYTES';

const FORM_ENCODED = 'application/x-www-form-urlencoded';

/**
 * Body parsers of the upload routes: a raw image (Content-Type image/*) as bytes, and a
 * form-encoded body as a marker that readImageUpload refuses with a hint: it is what curl
 * sends with --data-binary when no Content-Type is given, so the image arrives mislabelled.
 */
export function registerUploadParsers(app: FastifyInstance, maxBytes: number): void {
  app.addContentTypeParser(/^image\/[\w.+-]+$/, { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) => done(null, body));
  app.addContentTypeParser(FORM_ENCODED, { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, _body, done) => done(null, { formEncoded: true }));
}

export interface ImageUpload<T> {
  image: Buffer;
  params: T;
}

/**
 * Reads an image upload: multipart/form-data with the file in field `image` and parameters
 * as text fields, or a raw body with Content-Type image/* and parameters in the query.
 * Parameters go through parseFields with `schema`, the route's query schema, so a value
 * means the same in either place; a multipart field takes precedence over the same query
 * parameter (the query has already been parsed by the app's querystring validator).
 * Exactly one file is allowed, in the right field; unknown and repeated fields are errors,
 * not silently ignored.
 */
export async function readImageUpload<S extends TObject>(request: FastifyRequest, schema: S): Promise<ImageUpload<Static<S>>> {
  const query = (request.query ?? {}) as Record<string, unknown>;
  if (!request.isMultipart()) {
    const how = `send the image as multipart/form-data field '${IMAGE_FIELD}', or as the raw body with Content-Type image/*`;
    if (request.body === undefined || request.body === null) throw appError('missing_image', { detail: how });
    if (!Buffer.isBuffer(request.body)) throw unsupportedMediaType(request.headers['content-type'], how);
    return { image: request.body, params: parseFields(schema, query) };
  }
  const { files, fields } = await readMultipart(request, schema, { maxFiles: 1, maxTotalBytes: Infinity, repeatable: [] });
  return { image: files[0].data, params: parseFields(schema, { ...query, ...fields }) };
}

export interface NamedFile {
  filename: string;
  data: Buffer;
}

export interface ImagesUpload<T> {
  images: NamedFile[];
  params: T;
  /** Values of the repeatable fields, in the order sent. */
  repeated: Record<string, string[]>;
}

/**
 * Several images: multipart only, every file in field `image` (repeated), at most
 * `maxFiles` of them and `maxTotalBytes` in all; the fields named in `repeatable` may be
 * sent several times (their values come back in order), the others once.
 */
export async function readImageUploads<S extends TObject>(
  request: FastifyRequest,
  schema: S,
  limits: { maxFiles: number; maxTotalBytes: number; repeatable: string[] },
): Promise<ImagesUpload<Static<S>>> {
  if (!request.isMultipart()) {
    throw appError('unsupported_media_type', { detail: `send multipart/form-data with the images in field '${IMAGE_FIELD}' (repeated)` });
  }
  const { files, fields, repeated } = await readMultipart(request, schema, limits);
  return { images: files, params: parseFields(schema, { ...((request.query ?? {}) as Record<string, unknown>), ...fields }), repeated };
}

/**
 * The parser's limits, from the route's own: its files, each repeatable field once per file,
 * and every field of its schema once. One more file and one more field than allowed still
 * reach our checks, whose errors say what is wrong (at most N images; N labels for M images).
 */
function multipartLimits(schema: TObject, limits: { maxFiles: number; repeatable: string[] }): { files: number; fields: number; parts: number } {
  const files = limits.maxFiles + 1;
  const fields = Object.keys(schema.properties).length + limits.repeatable.length * limits.maxFiles + 1;
  return { files, fields, parts: files + fields };
}

async function readMultipart(
  request: FastifyRequest,
  schema: TObject,
  limits: { maxFiles: number; maxTotalBytes: number; repeatable: string[] },
): Promise<{ files: NamedFile[]; fields: Record<string, unknown>; repeated: Record<string, string[]> }> {
  const files: NamedFile[] = [];
  const fields: Record<string, unknown> = {};
  const repeated: Record<string, string[]> = Object.fromEntries(limits.repeatable.map((f) => [f, []]));
  let totalBytes = 0;
  const one = limits.maxFiles === 1;
  try {
    for await (const part of request.parts({ limits: multipartLimits(schema, limits) })) {
      if (part.type === 'file') {
        if (part.fieldname !== IMAGE_FIELD) {
          part.file.resume();
          throw appError('unexpected_file', { field: part.fieldname, what: one ? 'image' : 'images', expected: IMAGE_FIELD });
        }
        if (files.length >= limits.maxFiles) {
          part.file.resume();
          throw appError('too_many_files', { detail: one ? `send exactly one file in field '${IMAGE_FIELD}'` : `at most ${limits.maxFiles} images per request` });
        }
        const data = await part.toBuffer();
        totalBytes += data.length;
        if (totalBytes > limits.maxTotalBytes) throw appError('payload_too_large', { what: 'image set', limit: limits.maxTotalBytes, setting: IMAGE_SET_BYTES_SETTING });
        files.push({ filename: part.filename || `image-${files.length + 1}`, data });
      } else if (limits.repeatable.includes(part.fieldname)) {
        repeated[part.fieldname].push(String(part.value));
      } else {
        if (Object.hasOwn(fields, part.fieldname)) throw appError('duplicate_field', { field: part.fieldname });
        fields[part.fieldname] = part.value;
      }
    }
  } catch (err) {
    throw multipartError(err);
  }
  if (files.length === 0) throw appError('missing_image', { detail: `no file in field '${IMAGE_FIELD}'` });
  return { files, fields, repeated };
}

/**
 * Our own errors and the plugin's coded ones (size limits) pass through; anything else the
 * multipart parser throws (busboy: no boundary, data cut short, …) is the client's malformed
 * body: 400, not a 500.
 */
function multipartError(err: unknown): unknown {
  if (err instanceof AppError || (typeof err === 'object' && err !== null && 'code' in err && String(err.code).startsWith('FST_'))) return err;
  const message = err instanceof Error ? err.message : String(err);
  return appError('invalid_multipart', { detail: `the multipart body could not be read: ${message}` });
}

/** 415 for a body that is not an image; a form-encoded one also says how curl gets it right. */
function unsupportedMediaType(contentType: string | undefined, how: string): AppError {
  const curl = contentType?.startsWith(FORM_ENCODED)
    ? " (curl sends this type with --data-binary unless told otherwise: add -H 'Content-Type: image/jpeg', or send -F image=@FILE)"
    : '';
  return appError('unsupported_media_type', { detail: `Content-Type ${contentType} is not accepted here; ${how}${curl}` });
}
