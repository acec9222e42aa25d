// Each endpoint family answers errors in the envelope its contract documents. A route names its
// family in `config.envelope`; the error handler and the 404 handler write through these.
import { STATUS_CODES } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { ErrorCode } from '../core/errors.js';

export type Envelope = 'leads' | 'events' | 'plain';

declare module 'fastify' {
  interface FastifyContextConfig {
    envelope?: Envelope;
  }
}

export interface ErrorReply {
  readonly code: ErrorCode;
  readonly status: number;
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

/** Headers every error answer of `status` carries, whichever layer writes it. */
export function errorHeaders(error: ErrorReply, path = ''): Record<string, string> {
  if (error.status === 401) {
    // The admin API and the pull feeds take a Bearer token; the partner API Basic credentials.
    if (path.startsWith('/admin/')) return { 'www-authenticate': 'Bearer realm="dealer-gateway-admin"' };
    if (path.startsWith('/feeds/')) return { 'www-authenticate': 'Bearer realm="dealer-gateway-feed"' };
    return { 'www-authenticate': 'Basic realm="dealer-gateway", charset="UTF-8"' };
  }
  if (error.status === 503 || error.status === 429) return { 'retry-after': String(error.retryAfterSeconds ?? 1) };
  return {};
}

/** Where an error answer goes: the request's path (no query) and its id (`X-Request-Id`). */
export interface ErrorTarget {
  readonly path: string;
  readonly requestId: string;
}

/** The family a path belongs to: unmatched URLs, and answers given before routing, use it too. */
export function envelopeOfPath(path: string): Envelope {
  if (path.startsWith('/leads/')) return 'leads';
  if (path.startsWith('/service-pre-diag/')) return 'events';
  return 'plain';
}

export function envelopeOf(request: FastifyRequest): Envelope {
  return request.routeOptions.config?.envelope ?? envelopeOfPath(request.url);
}

export const pathOf = (url: string): string => url.split('?')[0] ?? '';

export function errorBody(envelope: Envelope, target: ErrorTarget, error: ErrorReply): Record<string, unknown> {
  switch (envelope) {
    case 'leads':
      // The leads contract uses Spring Boot's error body for 4xx, its own envelope otherwise.
      if (error.status < 500) {
        return {
          timestamp: new Date().toISOString(),
          status: error.status,
          error: STATUS_CODES[error.status] ?? 'Error',
          errorCode: error.code,
          message: error.message,
          path: target.path,
        };
      }
      return {
        error: { errorCode: error.code, errorDescription: error.message, errorUID: target.requestId },
        isNewCreated: null,
        prospectUuid: null,
        statusCode: error.status,
        warnings: [],
      };
    case 'events':
      return {
        errors: [{ errorCode: error.code, errorMessage: error.message }],
        warnings: [],
        requestId: null,
      };
    case 'plain':
      return { error: { code: error.code, message: error.message, requestId: target.requestId } };
    default: {
      const unreachable: never = envelope;
      throw new Error(`unknown envelope ${String(unreachable)}`);
    }
  }
}
