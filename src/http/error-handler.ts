// The one place that turns a thrown error into a response. Known errors keep their message;
// anything else becomes INTERNAL_ERROR with no detail, logged under the request id (errorUID).
// Answers given before routing (bad URLs) and unmatched routes (404/405) come through here too;
// answers given before Fastify has a request at all are in transport-errors.ts.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type ErrorCode, httpStatusOf, isAppError } from '../core/errors.js';
import { describeValidationError } from '../core/schema-errors.js';
import { isTransientDbError } from '../db/dialect.js';
import { RouteTable } from './allowed-methods.js';
import { type ErrorReply, envelopeOf, errorBody, errorHeaders, pathOf } from './envelopes.js';

export function errorReply(code: ErrorCode, message: string, retryAfterSeconds?: number): ErrorReply {
  return { code, status: httpStatusOf(code), message, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
}

function classify(err: FastifyError | Error, bodyLimit?: number): ErrorReply {
  if (isAppError(err)) return errorReply(err.code, err.message, err.retryAfterSeconds);
  const fe = err as FastifyError;
  if (fe.validation && fe.validation.length > 0) {
    return errorReply('VALIDATION_FAILED', describeValidationError(fe.validation[0] as never, fe.validationContext));
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errorReply('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errorReply('PAYLOAD_TOO_LARGE', `Request body is larger than the limit${bodyLimit ? ` of ${bodyLimit} bytes` : ''}`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errorReply('INVALID_JSON', 'Request body is empty; a JSON object is required');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errorReply('INVALID_JSON', 'Request body is not valid JSON');
    case 'FST_ERR_BAD_URL':
      return errorReply('MALFORMED_REQUEST', 'The URL is not valid (bad percent-encoding)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return errorReply('VALIDATION_FAILED', 'A path parameter is too long');
    default:
      break;
  }
  if (err instanceof SyntaxError && fe.statusCode === 400) return errorReply('INVALID_JSON', 'Request body is not valid JSON');
  if (isTransientDbError(err)) return errorReply('SERVICE_UNAVAILABLE', 'The service cannot store data right now; retry later');
  if (fe.statusCode === 404) return errorReply('NOT_FOUND', 'Not found');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // A client error raised by Fastify itself (e.g. a malformed header): keep its status family.
    return errorReply('MALFORMED_REQUEST', 'Bad request');
  }
  return errorReply('INTERNAL_ERROR', 'Internal server error');
}

export function sendError(request: FastifyRequest, res: FastifyReply, error: ErrorReply): FastifyReply {
  // Set here too: answers given before routing (frameworkErrors) run no hooks.
  res.header('x-request-id', request.id);
  res.headers(errorHeaders(error, pathOf(request.url)));
  return res.code(error.status).send(errorBody(envelopeOf(request), { path: pathOf(request.url), requestId: request.id }, error));
}

/** 405 with `Allow` when the path exists for other methods, 404 otherwise. */
function noRoute(routes: RouteTable, request: FastifyRequest, res: FastifyReply): FastifyReply {
  const path = pathOf(request.url);
  const allow = routes.allowed(path);
  if (allow.length === 0) return sendError(request, res, errorReply('NOT_FOUND', `No route for ${request.method} ${path}`));
  res.header('allow', allow.join(', '));
  if (request.method === 'OPTIONS') return res.code(204).send();
  return sendError(
    request,
    res,
    errorReply('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; allowed: ${allow.join(', ')}`),
  );
}

/** The client went away before its request was complete: nothing to answer, nothing wrong here. */
function clientGone(request: FastifyRequest): boolean {
  return request.raw.aborted || request.raw.socket?.destroyed === true;
}

export default fp(
  async function errorHandling(app: FastifyInstance) {
    const routes = new RouteTable();
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.add(method, route.url);
    });
    app.setErrorHandler((err: FastifyError, request, res) => {
      if (clientGone(request)) {
        request.log.info(
          { reqId: request.id, errorCode: (err as { code?: string }).code },
          'client closed the connection before the request was complete',
        );
        return res.code(499).send();
      }
      // A request for no route gets 404/405 even when its body could not be read.
      if (request.is404) return noRoute(routes, request, res);
      const error = classify(err, request.routeOptions.bodyLimit);
      if (error.status >= 500) {
        request.log.error({ reqId: request.id, err, errorCode: error.code, subscriber: request.principal?.username }, 'request failed');
      }
      // The access line (access-log.ts) carries the refusal's code and reason; a 5xx also has the
      // error line above, with the stack.
      request.outcome = { errorCode: error.code, reason: error.message };
      return sendError(request, res, error);
    });
    app.setNotFoundHandler((request, res) => noRoute(routes, request, res));
  },
  { name: 'error-handling' },
);

/** Fastify's `frameworkErrors`: bad URLs, answered before routing, in the path's envelope. */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, res: FastifyReply): void {
  const error = classify(err);
  request.log.info({ reqId: request.id, errorCode: error.code, reason: error.message }, 'request rejected');
  sendError(request, res, error);
}
