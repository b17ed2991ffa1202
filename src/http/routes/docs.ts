import type {} from '@fastify/swagger'; // app.swagger() types
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';

/** The OpenAPI document, generated from the route schemas (the same text as openapi.yaml). */
export const docsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/openapi.yaml', {
    schema: {
      summary: 'This API as OpenAPI 3 (YAML); a Swagger UI is at /docs',
      produces: ['application/yaml'],
      response: { 200: Type.String({ description: 'the OpenAPI document' }) },
    },
    handler: async (_request, reply) => reply.type('application/yaml; charset=utf-8').send(app.swagger({ yaml: true })),
  });
};
