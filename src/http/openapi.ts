// The OpenAPI 3 document, generated from the route schemas and served at /openapi.json.
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export default fp(
  async function openapi(app: FastifyInstance, opts: { version: string }) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'dealer-gateway',
          version: opts.version,
          description: 'Partner integration API: Leads v2 and vehicle service chat summary events. See docs/api.md.',
        },
        components: {
          securitySchemes: {
            basicAuth: { type: 'http', scheme: 'basic' },
            // The admin API (/admin/v1): ADMIN_TOKEN as `Authorization: Bearer …`.
            adminToken: { type: 'http', scheme: 'bearer' },
          },
        },
      },
    });
    app.get('/openapi.json', { schema: { hide: true }, config: { envelope: 'plain' } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
