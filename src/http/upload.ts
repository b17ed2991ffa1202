import type {} from '@fastify/multipart'; // request.parts() / isMultipart() types
import type { FastifyRequest } from 'fastify';
import type { Static, TObject } from '@sinclair/typebox';
import { parseFields } from '../contract/fields';
import { AppError, badRequest } from '../errors';

export const IMAGE_FIELD = 'image';

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
    if (request.body === undefined || request.body === null) throw badRequest('missing_image', how);
    if (!Buffer.isBuffer(request.body)) throw new AppError(415, 'unsupported_media_type', `Content-Type ${request.headers['content-type']} is not accepted here; ${how}`);
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
    throw new AppError(415, 'unsupported_media_type', `send multipart/form-data with the images in field '${IMAGE_FIELD}' (repeated)`);
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
          throw badRequest('unexpected_file', `file field '${part.fieldname}' is not accepted; send the image${one ? '' : 's'} in field '${IMAGE_FIELD}'`);
        }
        if (files.length >= limits.maxFiles) {
          part.file.resume();
          throw badRequest('too_many_files', one ? `send exactly one file in field '${IMAGE_FIELD}'` : `at most ${limits.maxFiles} images per request`);
        }
        const data = await part.toBuffer();
        totalBytes += data.length;
        if (totalBytes > limits.maxTotalBytes) throw new AppError(413, 'payload_too_large', `the images add up to more than ${limits.maxTotalBytes} bytes`);
        files.push({ filename: part.filename || `image-${files.length + 1}`, data });
      } else if (limits.repeatable.includes(part.fieldname)) {
        repeated[part.fieldname].push(String(part.value));
      } else {
        if (Object.hasOwn(fields, part.fieldname)) throw badRequest('duplicate_field', `field '${part.fieldname}' was sent more than once`);
        fields[part.fieldname] = part.value;
      }
    }
  } catch (err) {
    throw multipartError(err);
  }
  if (files.length === 0) throw badRequest('missing_image', `no file in field '${IMAGE_FIELD}'`);
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
  return badRequest('invalid_multipart', `the multipart body could not be read: ${message}`);
}
