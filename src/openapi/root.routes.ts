// GET / (and HEAD): where to go from the service's address. JSON by default (a client, curl); a
// tiny HTML page of the same links when the request's Accept prefers text/html (someone typed
// the address into a browser). It names the service's public pages only: no version, no
// configuration, nothing a caller could not find by trying those paths.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { plainErrors } from '../http/error-schemas.js';

interface RootLink {
  readonly rel: string;
  readonly href: string;
  readonly title: string;
}

const ROOT_LINKS: readonly RootLink[] = [
  { rel: 'console', href: '/console', title: 'Operator console (sign in with the admin token)' },
  { rel: 'docs', href: '/docs', title: 'Interactive API reference' },
  { rel: 'openapi', href: '/openapi.json', title: 'OpenAPI 3 document' },
  { rel: 'health', href: '/healthz', title: 'Liveness: the process is up' },
  { rel: 'ready', href: '/readyz', title: 'Readiness: the database answers and the worker is not stuck' },
  { rel: 'metrics', href: '/metrics', title: 'Prometheus metrics' },
];

export const ROOT_DOCUMENT = { service: 'dealer-gateway', links: ROOT_LINKS } as const;

const rootSchema = {
  type: 'object',
  required: ['service', 'links'],
  properties: {
    service: { type: 'string', description: 'Always `dealer-gateway`' },
    links: {
      type: 'array',
      items: {
        type: 'object',
        required: ['rel', 'href', 'title'],
        properties: {
          rel: { type: 'string', description: 'What the link is: console, docs, openapi, health, ready, metrics' },
          href: { type: 'string', description: 'A path on this service' },
          title: { type: 'string' },
        },
      },
    },
  },
} as const;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** The HTML page: the same links, no script and no style at all. */
export function rootPage(): string {
  const items = ROOT_LINKS.map((l) => `<li><a href="${escapeHtml(l.href)}">${escapeHtml(l.href)}</a> — ${escapeHtml(l.title)}</li>`);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>dealer-gateway</title></head>',
    '<body>',
    '<h1>dealer-gateway</h1>',
    '<ul>',
    ...items,
    '</ul>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The page allows nothing at all: no script, style, frame or form. */
const ROOT_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * The q-value Accept gives `type` (e.g. text/html): that of the most specific range matching it
 * (the type itself, then its wildcard subtype, then the wildcard of all types), 0 when none does.
 * No Accept header accepts everything.
 */
export function acceptQuality(accept: string | undefined, type: string): number {
  if (accept === undefined || accept.trim() === '') return 1;
  const [major] = type.split('/');
  let best = { specificity: -1, q: 0 };
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === '*/*' ? 0 : -1;
    if (specificity <= best.specificity) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    best = { specificity, q: Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0 };
  }
  return best.q;
}

/** HTML only when the client prefers it to JSON (a browser); a tie (curl accepts any type) is JSON. */
const prefersHtml = (request: FastifyRequest) =>
  acceptQuality(request.headers.accept, 'text/html') > acceptQuality(request.headers.accept, 'application/json');

export default async function rootRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/',
    {
      config: { envelope: 'plain' },
      schema: {
        tags: ['health'],
        operationId: 'getRoot',
        summary: 'Where to go from here: links to the console, the API reference, the OpenAPI document and health',
        description: 'JSON, or a small HTML page of the same links when Accept prefers text/html (a browser).',
        response: {
          200: {
            description: 'The service name and its public pages',
            content: { 'application/json': { schema: rootSchema }, 'text/html': { schema: { type: 'string' } } },
          },
          ...plainErrors,
        },
      },
    },
    async (request, reply) => {
      reply.headers(ROOT_SECURITY_HEADERS).header('vary', 'Accept');
      if (prefersHtml(request)) return reply.type('text/html; charset=utf-8').send(rootPage());
      return ROOT_DOCUMENT;
    },
  );
}
