// The OpenAPI 3 document, generated from the route schemas and served at /openapi.json.
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A request body schema for the OpenAPI document only (not used to validate). */
    documentedBody?: object;
  }
}

/** `POST /admin/v1/events/:requestId/replay` → `postAdminV1EventsRequestIdReplay`. */
export function operationIdOf(method: string, url: string): string {
  const words = url.split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0);
  return [method.toLowerCase(), ...words.map((w) => w[0]?.toUpperCase() + w.slice(1))].join('');
}

export default fp(
  async function openapi(app: FastifyInstance, opts: { version: string }) {
    await app.register(swagger, {
      // Every operation gets a stable operationId (client generators name methods after it) and
      // an explicit `security`: routes that declare none are public (health, metrics, console).
      transform: ({ schema, url, route }) => ({
        url,
        schema: {
          ...schema,
          operationId: schema?.operationId ?? operationIdOf(String(route.method), url),
          security: schema?.security ?? [],
          // A body documented but not validated by Fastify (the gate checks raw bytes itself).
          ...(route.config?.documentedBody === undefined ? {} : { body: route.config.documentedBody }),
        },
      }),
      openapi: {
        openapi: '3.0.3',
        servers: [{ url: 'http://127.0.0.1:8080', description: 'npm start on this machine (PORT, HOST)' }],
        info: {
          title: 'dealer-gateway',
          license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
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
