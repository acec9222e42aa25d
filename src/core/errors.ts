// The closed list of error codes the HTTP API answers with. Every code is documented in
// docs/api.md (a test fails when the two disagree) and maps to exactly one HTTP status.

export const ERROR_CODES = [
  'NULL_CREDENTIALS',
  'MALFORMED_CREDENTIALS',
  'WRONG_CREDENTIAL',
  'INVALID_SCOPE_DEALER',
  'INVALID_EVENT_SOURCE',
  'MALFORMED_REQUEST',
  'INVALID_JSON',
  'BODY_NOT_OBJECT',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'VALIDATION_FAILED',
  'DEALER_NOT_FOUND',
  'CUSTOMER_NOT_FOUND',
  'VEHICLE_NOT_FOUND',
  'LEAD_NOT_FOUND',
  'EVENT_NOT_FOUND',
  'IDEMPOTENCY_KEY_INVALID',
  'IDEMPOTENCY_KEY_REUSED',
  'ADF_NO_CONTACT',
  'NOT_FOUND',
  'CONFLICT',
  'METHOD_NOT_ALLOWED',
  'REQUEST_TIMEOUT',
  'HEADERS_TOO_LARGE',
  'TOO_MANY_REQUESTS',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'NULL_CREDENTIALS':
    case 'MALFORMED_CREDENTIALS':
    case 'WRONG_CREDENTIAL':
      return 401;
    case 'INVALID_SCOPE_DEALER':
    case 'INVALID_EVENT_SOURCE':
      return 403;
    case 'MALFORMED_REQUEST':
    case 'INVALID_JSON':
    case 'BODY_NOT_OBJECT':
    case 'VALIDATION_FAILED':
    case 'IDEMPOTENCY_KEY_INVALID':
      return 400;
    case 'DEALER_NOT_FOUND':
    case 'LEAD_NOT_FOUND':
    case 'EVENT_NOT_FOUND':
    case 'NOT_FOUND':
      return 404;
    case 'METHOD_NOT_ALLOWED':
      return 405;
    case 'CONFLICT':
      return 409;
    case 'REQUEST_TIMEOUT':
      return 408;
    case 'HEADERS_TOO_LARGE':
      return 431;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'CUSTOMER_NOT_FOUND':
    case 'VEHICLE_NOT_FOUND':
    case 'IDEMPOTENCY_KEY_REUSED':
    case 'ADF_NO_CONTACT':
      return 422;
    case 'TOO_MANY_REQUESTS':
      return 429;
    case 'SERVICE_UNAVAILABLE':
      return 503;
    case 'INTERNAL_ERROR':
      return 500;
    default: {
      const unreachable: never = code;
      throw new Error(`unmapped error code ${String(unreachable)}`);
    }
  }
}

/** An error we raise on purpose; its message is safe to show to the caller. */
export class AppError extends Error {
  override name = 'AppError';
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** For 429 and 503: when the caller may try again (the Retry-After header, in seconds). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.statusCode = httpStatusOf(code);
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;
