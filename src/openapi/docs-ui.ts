// The interactive API reference at /docs: Swagger UI over the same OpenAPI document as
// /openapi.json, its assets served from node_modules (swagger-ui-dist, through
// @fastify/swagger-ui), nothing from another origin. Hidden from the document itself.
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

const DOCS_PREFIX = '/docs';

/**
 * Swagger UI's own files only: no inline script, no other origin, no framing. The one inline
 * style attribute Swagger UI sets (swagger-ui-dist 5.34, in @fastify/swagger-ui 6.1.3) is allowed
 * by its hash; test/http/docs-ui.test.ts loads the page in chromium and fails on any violation.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-hashes' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** Registered without fastify-plugin: the hooks below apply to the /docs routes only. */
export default async function docsUi(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: DOCS_CSP,
    validatorUrl: false,
    theme: { title: 'dealer-gateway API reference' },
    uiConfig: { deepLinking: true, displayOperationId: true, defaultModelsExpandDepth: 0, tryItOutEnabled: false },
    // "Try it out" calls this service (the origin that served the page), which the CSP allows;
    // the committed document's `servers` names a fixed address instead.
    transformSpecification: (document) => ({ ...document, servers: [{ url: '/', description: 'This service' }] }),
  });
}
