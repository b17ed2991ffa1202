import AjvCompiler, { type BuildCompilerFromPool, type ValidatorFactory } from '@fastify/ajv-compiler';
import type { TObject } from '@sinclair/typebox';
import type { FastifySchema, FastifySchemaCompiler, FastifyServerOptions } from 'fastify';
import { parseFields } from '../contract/fields';

/**
 * Fastify's validator factory with one change: query strings go through parseFields, the
 * function multipart fields and the CLI's flags go through, instead of Ajv's coercion
 * (which reads `0x10` as 16 and ` 5` as 5, where multipart read them differently). Bodies,
 * params and headers keep Fastify's Ajv.
 */
export function validatorController(): NonNullable<FastifyServerOptions['schemaController']> {
  const ajvFactory = AjvCompiler();
  const buildValidator = (...args: Parameters<BuildCompilerFromPool>): FastifySchemaCompiler<FastifySchema> => {
    const ajv = ajvFactory(...args);
    return (route) => {
      if (route.httpPart !== 'querystring') return ajv(route);
      const schema = route.schema as TObject;
      return (data: unknown) => {
        try {
          return { value: parseFields(schema, (data ?? {}) as Record<string, unknown>) };
        } catch (error) {
          return { error: error as Error };
        }
      };
    };
  };
  // Fastify takes { value } / { error } results (FastifySchemaCompiler); the ajv-compiler's
  // type only knows Ajv's own functions.
  return { compilersFactory: { buildValidator: buildValidator as unknown as ValidatorFactory } };
}
