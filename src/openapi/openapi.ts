// The OpenAPI 3 document, generated from the route schemas and served at /openapi.json.
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { authOf, errorResponses, OPERATION_ERROR_CODES, type OperationKey, successHeaders } from './error-responses.js';
import { MEDIA_EXAMPLES, SUCCESS_EXAMPLES } from './response-examples.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A request body schema for the OpenAPI document only (not used to validate). */
    documentedBody?: object;
  }
}

/** `POST /admin/v1/events/:requestId/replay` → `postAdminV1EventsRequestIdReplay`. */
function operationIdOf(method: string, url: string): string {
  const words = url.split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0);
  return [method.toLowerCase(), ...words.map((w) => w[0]?.toUpperCase() + w.slice(1))].join('');
}

/** Headers some successful answers carry besides X-Request-Id. */
const EXTRA_SUCCESS_HEADERS: Partial<Record<OperationKey, Record<string, unknown>>> = {
  'POST /admin/v1/replays': {
    Location: {
      description: 'The replay job, to poll',
      schema: { type: 'string' },
      example: '/admin/v1/replays/019ab1c4-2d7e-7b10-8c3f-4e5a6b7c8d9e',
    },
  },
  'POST /console/session': {
    'Set-Cookie': {
      description: 'The console session cookie (HttpOnly, SameSite=Strict; Secure unless served on loopback over HTTP)',
      schema: { type: 'string' },
      example: 'dgw_session=v1.1795410000000.x3Jt…; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800; Secure',
    },
  },
  'DELETE /console/session': {
    'Set-Cookie': {
      description: 'Clears the console session cookie',
      schema: { type: 'string' },
      example: 'dgw_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure',
    },
  },
};

interface DocumentedOperation {
  security?: unknown;
  responses?: Record<string, { content?: Record<string, { example?: unknown }>; headers?: Record<string, unknown> }>;
}

/**
 * Completes every operation of the generated document (documentation only; the route schemas
 * that serialize answers are untouched): each error status the operation can answer with its
 * envelope, code enum, headers and example (error-responses.ts), and the headers and example of
 * its successful answer (response-examples.ts). An operation missing from either table fails here.
 */
function completeOperations<T extends { paths?: unknown }>(document: T): T {
  const paths = (document.paths ?? {}) as Record<string, Record<string, DocumentedOperation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      const key = `${method.toUpperCase()} ${path}` as OperationKey;
      const codes = OPERATION_ERROR_CODES[key];
      if (codes === undefined) throw new Error(`openapi: ${key} is missing from OPERATION_ERROR_CODES (src/openapi/error-responses.ts)`);
      if (!(key in SUCCESS_EXAMPLES))
        throw new Error(`openapi: ${key} is missing from SUCCESS_EXAMPLES (src/openapi/response-examples.ts)`);
      // The console's 401s carry the admin Bearer challenge (console.routes.ts), though its routes are public.
      const auth = path.startsWith('/console/') ? 'bearer' : authOf(op.security);
      const responses: NonNullable<DocumentedOperation['responses']> = {};
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (!status.startsWith('2')) continue;
        const content = response.content
          ? Object.fromEntries(
              Object.entries(response.content).map(([type, media]) => [
                type,
                { ...media, example: MEDIA_EXAMPLES[key]?.[type] ?? SUCCESS_EXAMPLES[key] },
              ]),
            )
          : undefined;
        responses[status] = {
          ...response,
          headers: { ...successHeaders(auth), ...EXTRA_SUCCESS_HEADERS[key] },
          ...(content ? { content } : {}),
        };
      }
      op.responses = { ...responses, ...(errorResponses(path, codes, auth) as typeof responses) };
    }
  }
  return document;
}

/** Sections the document carries besides the routes: the outbound messages (outbox/outbound-types.ts). */
interface ExtraDocumentation {
  readonly schemas: Record<string, object>;
  readonly webhooks: Record<string, object>;
}

export default fp(
  async function openapi(app: FastifyInstance, opts: { version: string; extra?: ExtraDocumentation }) {
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
      transformObject: (documentObject) => {
        if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
        const document = completeOperations(documentObject.openapiObject);
        if (!opts.extra) return document;
        // The outbound schemas are plain JSON Schema objects: typed here as the document's own.
        const schemas = { ...document.components?.schemas, ...opts.extra.schemas } as NonNullable<typeof document.components>['schemas'];
        return {
          ...document,
          components: { ...document.components, schemas },
          'x-webhooks': opts.extra.webhooks,
        } as unknown as typeof document;
      },
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
            // A pull destination's feed (/feeds/v1/{destination}): its feed token as `Authorization: Bearer …`.
            feedToken: { type: 'http', scheme: 'bearer' },
          },
        },
      },
    });
    app.get('/openapi.json', { schema: { hide: true }, config: { envelope: 'plain' } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
