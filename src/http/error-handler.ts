// The one place that turns a thrown error into a response. Known errors keep their message;
// anything else becomes INTERNAL_ERROR with no detail, logged under the request id (errorUID).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isTransientDbError } from '../db/dialect.js';
import { type ErrorCode, httpStatusOf, isAppError } from '../errors.js';
import { type ErrorReply, envelopeOf, errorBody } from './envelopes.js';
import { describeValidationError } from './validation.js';

function reply(code: ErrorCode, message: string): ErrorReply {
  return { code, status: httpStatusOf(code), message };
}

export function classify(err: FastifyError | Error, bodyLimit?: number): ErrorReply {
  if (isAppError(err)) return reply(err.code, err.message);
  const fe = err as FastifyError;
  if (fe.validation && fe.validation.length > 0) {
    return reply('VALIDATION_FAILED', describeValidationError(fe.validation[0] as never, fe.validationContext));
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return reply('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return reply('PAYLOAD_TOO_LARGE', `Request body is larger than the limit${bodyLimit ? ` of ${bodyLimit} bytes` : ''}`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return reply('INVALID_JSON', 'Request body is empty; a JSON object is required');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return reply('INVALID_JSON', 'Request body is not valid JSON');
    default:
      break;
  }
  if (err instanceof SyntaxError && fe.statusCode === 400) return reply('INVALID_JSON', 'Request body is not valid JSON');
  if (isTransientDbError(err)) return reply('SERVICE_UNAVAILABLE', 'The service cannot store data right now; retry later');
  if (fe.statusCode === 404) return reply('NOT_FOUND', 'Not found');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // A client error raised by Fastify itself (e.g. a malformed header): keep its status family.
    return { code: 'VALIDATION_FAILED', status: 400, message: 'Bad request' };
  }
  return reply('INTERNAL_ERROR', 'Internal server error');
}

export function sendError(request: FastifyRequest, res: FastifyReply, error: ErrorReply): FastifyReply {
  if (error.status === 401) res.header('www-authenticate', 'Basic realm="dealer-gateway", charset="UTF-8"');
  if (error.status === 503 || error.status === 429) res.header('retry-after', '1');
  return res.code(error.status).send(errorBody(envelopeOf(request), request, error));
}

export default fp(
  async function errorHandling(app: FastifyInstance) {
    app.setErrorHandler((err: FastifyError, request, res) => {
      const error = classify(err, request.routeOptions.bodyLimit);
      if (error.status >= 500) {
        request.log.error({ err, errorCode: error.code }, 'request failed');
      } else {
        request.log.info({ errorCode: error.code, reason: error.message }, 'request rejected');
      }
      return sendError(request, res, error);
    });
    app.setNotFoundHandler((request, res) => {
      return sendError(request, res, reply('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`));
    });
  },
  { name: 'error-handling' },
);
