// The operator console at /console: one HTML shell, a stylesheet and ES modules (static/), over
// the admin JSON API, which the browser calls with the session cookie (session.routes.ts). No
// framework and no build step; see docs/architecture.md, "The operator console".
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import { EVENT_STATUSES } from '../eventlog/event.model.js';
import { PIPELINE_ERROR_CODES } from '../eventlog/event-codes.js';
import { OUTBOUND_TYPES } from '../outbox/outbound-types.js';
import { CONSOLE_SECURITY_HEADERS } from './security-headers.js';
import sessionRoutes from './session.routes.js';
import { generatedModule, loadStaticFiles, type StaticFile } from './static-files.js';

const CONSOLE_PREFIX = '/console';

function sendFile(request: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  reply.header('etag', file.etag).header('cache-control', 'no-cache');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.type(file.contentType).send(file.body);
}

export default async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const files = loadStaticFiles();
  // The closed lists the pages offer as filters come from the server's own, not a copy.
  files.set('js/codes.js', generatedModule({ STATUSES: EVENT_STATUSES, ERROR_CODES: PIPELINE_ERROR_CODES, OUTBOUND_TYPES }));
  const index = files.get('index.html');
  if (index === undefined) throw new Error('operator console: index.html is missing');

  await app.register(async (scope) => {
    // Every answer in this scope, errors included, carries the console's security headers.
    scope.addHook('onSend', async (_request, reply, payload) => {
      reply.headers(CONSOLE_SECURITY_HEADERS);
      // The sign-in's 401 must not make a browser pop up its Basic credentials dialog.
      if (reply.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="dealer-gateway-admin"');
      return payload;
    });

    const hidden = { schema: { hide: true } };
    scope.get(CONSOLE_PREFIX, hidden, async (request, reply) => sendFile(request, reply, index));
    scope.get(`${CONSOLE_PREFIX}/`, hidden, async (request, reply) => sendFile(request, reply, index));
    scope.get<{ Params: { '*': string } }>(`${CONSOLE_PREFIX}/assets/*`, hidden, async (request, reply) => {
      const file = files.get(request.params['*']);
      if (file === undefined || request.params['*'] === 'index.html') throw new AppError('NOT_FOUND', 'No such console file');
      return sendFile(request, reply, file);
    });
    await scope.register(sessionRoutes);
    // Unknown console paths answer 404 here, so they carry the headers above too.
    scope.get(`${CONSOLE_PREFIX}/*`, hidden, async () => {
      throw new AppError('NOT_FOUND', 'No such console page');
    });
  });
}
