import { type TSchema, Type } from '@sinclair/typebox';
import { ERRORS, type ErrorCode, type Operation } from '../errors';

/**
 * A route's error responses, derived from the error registry: the route names what it does
 * (its operations), and each status gets the codes those operations can answer, in
 * openapi.yaml as the code's enum. `any` (internal_error) comes with every route that has errors.
 */
export function codesByStatus(operations: readonly Operation[]): Map<number, ErrorCode[]> {
  const wanted = new Set<Operation>(['any', ...operations]);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const [code, definition] of Object.entries(ERRORS) as [ErrorCode, (typeof ERRORS)[ErrorCode]][]) {
    if (!definition.in.some((operation) => wanted.has(operation))) continue;
    byStatus.set(definition.status, [...(byStatus.get(definition.status) ?? []), code]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

/** {"error":{"code","message"}} per status, for the codes `operations` can answer. */
export function errorResponses(...operations: Operation[]): Record<number, TSchema> {
  return responses(operations, (codes) =>
    Type.Object(
      {
        error: Type.Object({
          code: Type.String({ enum: codes, description: 'stable machine-readable code' }),
          message: Type.String({ description: 'what went wrong and what to do about it' }),
          requestId: Type.Optional(Type.String({ description: 'on a 5xx: the request in the service log, which has the details' })),
        }),
      },
      { description: codes.join(', ') },
    ),
  );
}

/** The Open Inference Protocol's {"error": "message"} per status; the codes in the description. */
export function protocolErrorResponses(...operations: Operation[]): Record<number, TSchema> {
  return responses(operations, (codes) => Type.Object({ error: Type.String() }, { description: `Open Inference Protocol error (advprobe's code: ${codes.join(', ')})` }));
}

function responses(operations: Operation[], schema: (codes: ErrorCode[]) => TSchema): Record<number, TSchema> {
  return Object.fromEntries([...codesByStatus(operations)].map(([status, codes]) => [status, schema(codes)]));
}
