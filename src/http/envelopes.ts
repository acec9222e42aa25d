// Each endpoint family answers errors in the envelope its contract documents. A route names its
// family in `config.envelope`; the error handler and the 404 handler write through these.
import { STATUS_CODES } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { ErrorCode } from '../errors.js';

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
}

export function envelopeOf(request: FastifyRequest): Envelope {
  const fromRoute = request.routeOptions.config?.envelope;
  if (fromRoute) return fromRoute;
  // Unmatched URLs still get the envelope of the family their path belongs to.
  if (request.url.startsWith('/leads/')) return 'leads';
  if (request.url.startsWith('/service-pre-diag/')) return 'events';
  return 'plain';
}

export function errorBody(envelope: Envelope, request: FastifyRequest, error: ErrorReply): Record<string, unknown> {
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
          path: request.url.split('?')[0],
        };
      }
      return {
        error: { errorCode: error.code, errorDescription: error.message, errorUID: request.id },
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
      return { error: { code: error.code, message: error.message, requestId: request.id } };
    default: {
      const unreachable: never = envelope;
      throw new Error(`unknown envelope ${String(unreachable)}`);
    }
  }
}
