// The error answers of every operation, for the OpenAPI document (documentation only: the route
// schemas that drive serialization are left alone). One table says which codes of the closed list
// (src/core/errors.ts) each operation can answer; the statuses, envelopes, `enum`s of codes, headers and
// examples are derived from it, grouped by httpStatusOf. docs/api.md says when each code occurs.
import { STATUS_CODES } from 'node:http';
import { type ErrorCode, httpStatusOf } from '../core/errors.js';
import { type Envelope, envelopeOfPath } from '../http/envelopes.js';

/** `METHOD /openapi/path/{param}`, as the operation appears in the document. */
export type OperationKey = `${'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} /${string}`;

type Codes = readonly ErrorCode[];

/** Any request: a missing Host or a bad URL (400), shutting down or at capacity (503), a bug (500). */
const ANY: Codes = ['MALFORMED_REQUEST', 'SERVICE_UNAVAILABLE', 'INTERNAL_ERROR'];
/**
 * Basic (partner) or Bearer (admin) credentials: refused (401) or throttled (429: failures, the
 * rate limit, or MAX_IN_FLIGHT_PER_CLIENT).
 */
const AUTH: Codes = ['NULL_CREDENTIALS', 'MALFORMED_CREDENTIALS', 'WRONG_CREDENTIAL', 'TOO_MANY_REQUESTS'];
/**
 * A JSON body read by the JSON parser and checked by the route's schema (a path or query too);
 * a body that stops arriving is cut (408).
 */
const JSON_BODY: Codes = ['INVALID_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', 'VALIDATION_FAILED', 'REQUEST_TIMEOUT'];
/** The event gate's raw body: any content type, any JSON object. */
const RAW_EVENT_BODY: Codes = ['INVALID_JSON', 'BODY_NOT_OBJECT', 'VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE', 'REQUEST_TIMEOUT'];
/** Path or query parameters checked by the route's schema. */
const PARAMS: Codes = ['VALIDATION_FAILED'];

const PARTNER = [...ANY, ...AUTH];
const ADMIN = [...ANY, ...AUTH];

/** The codes each operation can answer. A code outside ERROR_CODES does not compile. */
export const OPERATION_ERROR_CODES: Readonly<Record<OperationKey, Codes>> = {
  'GET /': ANY,
  'GET /metrics': ANY,
  'GET /healthz': ANY,
  'GET /readyz': ANY,

  'POST /leads/v2/dealer/{dealerUuid}': [
    ...PARTNER,
    ...JSON_BODY,
    'INVALID_SCOPE_DEALER',
    'DEALER_NOT_FOUND',
    'CUSTOMER_NOT_FOUND',
    'VEHICLE_NOT_FOUND',
  ],
  'GET /leads/v2/dealer/{dealerUuid}/lead/{prospectUuid}': [...PARTNER, ...PARAMS, 'INVALID_SCOPE_DEALER', 'LEAD_NOT_FOUND'],
  'POST /service-pre-diag/third-party-events/vehicle-service-chat/v1': [
    ...PARTNER,
    ...RAW_EVENT_BODY,
    'INVALID_EVENT_SOURCE',
    'INVALID_SCOPE_DEALER',
    'IDEMPOTENCY_KEY_INVALID',
    'IDEMPOTENCY_KEY_REUSED',
  ],
  'POST /service-pre-diag/third-party-events/vehicle-service-chat/v1/dry-run': [
    ...PARTNER,
    ...RAW_EVENT_BODY,
    'INVALID_EVENT_SOURCE',
    'INVALID_SCOPE_DEALER',
  ],
  'GET /service-pre-diag/third-party-events/vehicle-service-chat/v1/{requestId}': [...PARTNER, ...PARAMS, 'EVENT_NOT_FOUND'],

  // 401 for any token that does not open this feed (another destination's too); 409: disabled.
  'GET /feeds/v1/{destination}': [...ANY, ...AUTH, ...PARAMS, 'CONFLICT'],

  'GET /admin/v1/events': [...ADMIN, ...PARAMS],
  'GET /admin/v1/events/{requestId}': [...ADMIN, ...PARAMS, 'EVENT_NOT_FOUND'],
  'POST /admin/v1/events/{requestId}/replay': [...ADMIN, ...JSON_BODY, 'EVENT_NOT_FOUND', 'CONFLICT'],
  'POST /admin/v1/replays': [...ADMIN, ...JSON_BODY],
  'GET /admin/v1/replays/{id}': [...ADMIN, ...PARAMS, 'NOT_FOUND'],
  'GET /admin/v1/dealers': [...ADMIN, ...PARAMS],
  'POST /admin/v1/dealers': [...ADMIN, ...JSON_BODY, 'CONFLICT'],
  'GET /admin/v1/dealers/{uuid}': [...ADMIN, ...PARAMS, 'DEALER_NOT_FOUND'],
  'PATCH /admin/v1/dealers/{uuid}': [...ADMIN, ...JSON_BODY, 'DEALER_NOT_FOUND'],
  'GET /admin/v1/dealers/{dealerUuid}/customers': [...ADMIN, ...PARAMS, 'DEALER_NOT_FOUND'],
  'POST /admin/v1/dealers/{dealerUuid}/customers': [...ADMIN, ...JSON_BODY, 'DEALER_NOT_FOUND', 'CONFLICT'],
  'PATCH /admin/v1/customers/{uuid}': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'GET /admin/v1/dealers/{dealerUuid}/vehicles': [...ADMIN, ...PARAMS, 'DEALER_NOT_FOUND'],
  'POST /admin/v1/customers/{customerUuid}/vehicles': [...ADMIN, ...JSON_BODY, 'NOT_FOUND', 'CONFLICT'],
  'PATCH /admin/v1/vehicles/{uuid}': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'GET /admin/v1/subscribers': [...ADMIN, ...PARAMS],
  'POST /admin/v1/subscribers': [...ADMIN, ...JSON_BODY, 'CONFLICT'],
  'GET /admin/v1/subscribers/{username}': [...ADMIN, ...PARAMS, 'NOT_FOUND'],
  'POST /admin/v1/subscribers/{username}/password': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'PUT /admin/v1/subscribers/{username}/rate-limit': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'POST /admin/v1/subscribers/{username}/disable': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'POST /admin/v1/subscribers/{username}/enable': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'PUT /admin/v1/subscribers/{username}/grants': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'GET /admin/v1/integrations': [...ADMIN, ...PARAMS],
  'POST /admin/v1/integrations': [...ADMIN, ...JSON_BODY, 'CONFLICT'],
  'GET /admin/v1/integrations/{subscriber}/{eventType}': [...ADMIN, ...PARAMS, 'NOT_FOUND'],
  'PATCH /admin/v1/integrations/{subscriber}/{eventType}': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'GET /admin/v1/audit': [...ADMIN, ...PARAMS],
  'GET /admin/v1/dealers/{dealerUuid}/chat-summaries': [...ADMIN, ...PARAMS, 'DEALER_NOT_FOUND'],
  'GET /admin/v1/dealers/{dealerUuid}/leads': [...ADMIN, ...PARAMS, 'DEALER_NOT_FOUND'],
  'GET /admin/v1/dealers/{dealerUuid}/leads/{prospectUuid}': [...ADMIN, ...PARAMS, 'DEALER_NOT_FOUND', 'LEAD_NOT_FOUND'],
  'GET /admin/v1/dealers/{dealerUuid}/leads/{prospectUuid}/adf': [
    ...ADMIN,
    ...PARAMS,
    'DEALER_NOT_FOUND',
    'LEAD_NOT_FOUND',
    'ADF_NO_CONTACT',
  ],
  'POST /admin/v1/integrations/{subscriber}/{eventType}/dry-run': [...ADMIN, ...JSON_BODY, 'EVENT_NOT_FOUND', 'CONFLICT'],
  'GET /admin/v1/stats': ADMIN,
  'GET /admin/v1/destinations': ADMIN,
  'POST /admin/v1/destinations': [...ADMIN, ...JSON_BODY, 'CONFLICT'],
  'GET /admin/v1/destinations/{name}': [...ADMIN, ...PARAMS, 'NOT_FOUND'],
  'PUT /admin/v1/destinations/{name}': [...ADMIN, ...JSON_BODY, 'NOT_FOUND', 'CONFLICT'],
  'DELETE /admin/v1/destinations/{name}': [...ADMIN, ...PARAMS, 'NOT_FOUND'],
  'POST /admin/v1/destinations/{name}/enable': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'POST /admin/v1/destinations/{name}/disable': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'POST /admin/v1/destinations/{name}/rotate-secret': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'POST /admin/v1/destinations/{name}/rotate-feed-token': [...ADMIN, ...JSON_BODY, 'NOT_FOUND', 'CONFLICT'],
  'POST /admin/v1/destinations/{name}/test': [...ADMIN, ...JSON_BODY, 'NOT_FOUND', 'CONFLICT'],
  'POST /admin/v1/destinations/{name}/recover': [...ADMIN, ...JSON_BODY, 'NOT_FOUND'],
  'GET /admin/v1/messages': [...ADMIN, ...PARAMS],
  'GET /admin/v1/messages/{id}': [...ADMIN, ...PARAMS, 'NOT_FOUND'],
  'POST /admin/v1/messages/{id}/retry': [...ADMIN, ...JSON_BODY, 'NOT_FOUND', 'CONFLICT'],
  'POST /admin/v1/messages/retry': [...ADMIN, ...JSON_BODY],

  'POST /console/session': [...ANY, ...JSON_BODY, 'WRONG_CREDENTIAL', 'TOO_MANY_REQUESTS'],
  'GET /console/session': [...ANY, ...AUTH],
  'DELETE /console/session': [...ANY, ...JSON_BODY, 'TOO_MANY_REQUESTS'],
};

/** A message each code may carry (the examples of the document). */
const EXAMPLE_MESSAGES: Readonly<Record<ErrorCode, string>> = {
  NULL_CREDENTIALS: 'Authorization header is required',
  MALFORMED_CREDENTIALS: 'Authorization header is not valid Basic credentials',
  WRONG_CREDENTIAL: 'Invalid credentials',
  INVALID_SCOPE_DEALER: 'Subscriber lacks scope lead.write for dealer d-2',
  INVALID_EVENT_SOURCE: 'Subscriber has no active vehicle-service-chat integration',
  MALFORMED_REQUEST: 'An HTTP/1.1 request must carry a Host header',
  INVALID_JSON: 'Request body is not valid JSON',
  BODY_NOT_OBJECT: 'Request body must be a JSON object',
  UNSUPPORTED_MEDIA_TYPE: 'Content-Type must be application/json',
  PAYLOAD_TOO_LARGE: 'Request body is larger than the limit of 1048576 bytes',
  VALIDATION_FAILED: "Field 'services[0].dueDate' must be a calendar date in the format yyyy-MM-dd",
  DEALER_NOT_FOUND: 'Dealer d-9 does not exist',
  CUSTOMER_NOT_FOUND: 'Customer c-9 is not a customer of dealer d-1',
  VEHICLE_NOT_FOUND: 'Vehicle v-9 is not a vehicle of dealer d-1',
  LEAD_NOT_FOUND: 'No lead 6e172a59-0b6c-4f1e-9a51-3d2b7c8e9f10 for dealer d-1',
  EVENT_NOT_FOUND: 'No event 019ab0a3-5c1e-7a42-9f3d-2c6e8b1d4f70',
  IDEMPOTENCY_KEY_INVALID: 'Idempotency-Key must be 1 to 255 characters',
  IDEMPOTENCY_KEY_REUSED: 'Idempotency-Key was already used with a different body',
  ADF_NO_CONTACT: "ADF needs the customer's email or phone: customer c-1 has neither (provision one, then save the lead again)",
  NOT_FOUND: 'Subscriber newpartner does not exist',
  CONFLICT: 'Dealer d-1 already exists',
  METHOD_NOT_ALLOWED: 'DELETE is not allowed on /healthz; allowed: GET, HEAD',
  REQUEST_TIMEOUT: 'The request took too long to arrive',
  HEADERS_TOO_LARGE: 'The request headers are too large',
  TOO_MANY_REQUESTS: 'Too many failed authentications; retry later',
  SERVICE_UNAVAILABLE: 'The service is at capacity; retry shortly',
  INTERNAL_ERROR: 'Internal server error',
};

const EXAMPLE_REQUEST_ID = '3f2b8c1e-6d4a-4f7b-9e0c-5a1d2b3c4e5f';
const EXAMPLE_TIMESTAMP = '2026-11-22T20:06:14.485Z';
/** Values for path parameters in example `path`s, consistent with docs/api.md. */
const EXAMPLE_PARAMS: Readonly<Record<string, string>> = {
  dealerUuid: 'd-1',
  prospectUuid: '6e172a59-0b6c-4f1e-9a51-3d2b7c8e9f10',
  requestId: '019ab0a3-5c1e-7a42-9f3d-2c6e8b1d4f70',
};

const REQUEST_ID_HEADER = {
  description: 'The id under which the request is logged (errorUID of 5xx answers)',
  schema: { type: 'string', format: 'uuid' },
  example: EXAMPLE_REQUEST_ID,
};
const RETRY_AFTER_HEADER = {
  description: 'Seconds to wait before retrying',
  schema: { type: 'integer', minimum: 0 },
  example: 1,
};
/** IETF RateLimit headers (docs/api.md, "Rate limits"): on every answer to a rate-limited subscriber. */
const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': {
    description: "The subscriber's burst: the most requests admitted at once (only for a subscriber with a rate limit)",
    schema: { type: 'integer', minimum: 0 },
    example: 10,
  },
  'RateLimit-Remaining': {
    description: 'Requests admitted right now (only for a subscriber with a rate limit)',
    schema: { type: 'integer', minimum: 0 },
    example: 9,
  },
  'RateLimit-Reset': {
    description: 'Seconds until the bucket is full again (only for a subscriber with a rate limit)',
    schema: { type: 'integer', minimum: 0 },
    example: 1,
  },
};

type Auth = 'basic' | 'bearer' | 'feed' | 'none';

const CHALLENGES: Readonly<Record<Exclude<Auth, 'none'>, string>> = {
  basic: 'Basic realm="dealer-gateway", charset="UTF-8"',
  bearer: 'Bearer realm="dealer-gateway-admin"',
  feed: 'Bearer realm="dealer-gateway-feed"',
};

function wwwAuthenticate(auth: Exclude<Auth, 'none'>) {
  const value = CHALLENGES[auth];
  return { description: 'The authentication scheme to use', schema: { type: 'string' }, example: value };
}

const codeList = (codes: Codes) => codes.map((c) => `\`${c}\``).join(', ');

/** The error body of `envelope` for `status`, with its code field an enum of `codes`. */
function errorSchema(envelope: Envelope, status: number, codes: Codes): Record<string, unknown> {
  const code = { type: 'string', enum: [...codes] };
  switch (envelope) {
    case 'leads':
      if (status < 500) {
        return {
          type: 'object',
          description: 'Spring Boot error body, plus errorCode',
          required: ['timestamp', 'status', 'error', 'errorCode', 'message', 'path'],
          properties: {
            timestamp: { type: 'string', format: 'date-time' },
            status: { type: 'integer', description: 'The HTTP status' },
            error: { type: 'string', description: 'The HTTP reason phrase' },
            errorCode: code,
            message: { type: 'string', description: 'Names the first offending field and the rule' },
            path: { type: 'string' },
          },
        };
      }
      return {
        type: 'object',
        description: "The leads contract's envelope; errorUID is the request id",
        required: ['error', 'isNewCreated', 'prospectUuid', 'statusCode', 'warnings'],
        properties: {
          error: {
            type: 'object',
            required: ['errorCode', 'errorDescription', 'errorUID'],
            properties: { errorCode: code, errorDescription: { type: 'string' }, errorUID: { type: 'string' } },
          },
          isNewCreated: { type: 'boolean', nullable: true },
          prospectUuid: { type: 'string', nullable: true },
          statusCode: { type: 'integer' },
          warnings: { type: 'array', items: { type: 'object' } },
        },
      };
    case 'events':
      return {
        type: 'object',
        description: "The events contract's envelope; requestId is null (nothing was stored)",
        required: ['errors', 'warnings', 'requestId'],
        properties: {
          errors: {
            type: 'array',
            items: {
              type: 'object',
              required: ['errorCode', 'errorMessage'],
              properties: { errorCode: code, errorMessage: { type: 'string' } },
            },
          },
          warnings: { type: 'array', items: { type: 'object' } },
          requestId: { type: 'string', nullable: true },
        },
      };
    case 'plain':
      return {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message', 'requestId'],
            properties: { code, message: { type: 'string' }, requestId: { type: 'string' } },
          },
        },
      };
    default: {
      const unreachable: never = envelope;
      throw new Error(`unknown envelope ${String(unreachable)}`);
    }
  }
}

/** An answer of `code` on `path`, as envelopes.ts writes it. */
function errorExample(envelope: Envelope, path: string, code: ErrorCode): Record<string, unknown> {
  const status = httpStatusOf(code);
  const message = EXAMPLE_MESSAGES[code];
  switch (envelope) {
    case 'leads':
      if (status < 500) {
        return {
          timestamp: EXAMPLE_TIMESTAMP,
          status,
          error: STATUS_CODES[status] ?? 'Error',
          errorCode: code,
          message,
          path: path.replace(/\{(\w+)\}/g, (_m, name: string) => EXAMPLE_PARAMS[name] ?? name),
        };
      }
      return {
        error: { errorCode: code, errorDescription: message, errorUID: EXAMPLE_REQUEST_ID },
        isNewCreated: null,
        prospectUuid: null,
        statusCode: status,
        warnings: [],
      };
    case 'events':
      return { errors: [{ errorCode: code, errorMessage: message }], warnings: [], requestId: null };
    case 'plain':
      return { error: { code, message, requestId: EXAMPLE_REQUEST_ID } };
    default: {
      const unreachable: never = envelope;
      throw new Error(`unknown envelope ${String(unreachable)}`);
    }
  }
}

/** Codes grouped by their one HTTP status, in the order the statuses first appear. */
function byStatus(codes: Codes): Map<number, ErrorCode[]> {
  const groups = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = httpStatusOf(code);
    groups.set(status, [...(groups.get(status) ?? []), code]);
  }
  return new Map([...groups.entries()].sort(([a], [b]) => a - b));
}

function headersOf(status: number, auth: Auth): Record<string, unknown> {
  return {
    'X-Request-Id': REQUEST_ID_HEADER,
    ...(status === 401 && auth !== 'none' ? { 'WWW-Authenticate': wwwAuthenticate(auth) } : {}),
    ...(status === 429 || status === 503 ? { 'Retry-After': RETRY_AFTER_HEADER } : {}),
    ...(auth === 'basic' && status !== 401 ? RATE_LIMIT_HEADERS : {}),
  };
}

/**
 * The error responses of an operation: one per status its codes map to, plus `4XX` and `5XX`
 * ranges holding every client (server) error code of the operation, for clients that type all
 * errors of a family at once.
 */
export function errorResponses(path: string, codes: Codes, auth: Auth): Record<string, unknown> {
  const envelope = envelopeOfPath(path);
  const responses: Record<string, unknown> = {};
  const groups = byStatus(codes);
  const response = (status: number, rangeCodes: Codes, description: string, headers: Record<string, unknown>) => ({
    description,
    headers,
    content: {
      'application/json': {
        schema: errorSchema(envelope, status, rangeCodes),
        example: errorExample(envelope, path, rangeCodes[0] as ErrorCode),
      },
    },
  });
  for (const [status, group] of groups) {
    responses[String(status)] = response(status, group, `${STATUS_CODES[status] ?? 'Error'}: ${codeList(group)}`, headersOf(status, auth));
  }
  for (const [range, low] of [
    ['4XX', 400],
    ['5XX', 500],
  ] as const) {
    const family = [...groups.entries()].filter(([s]) => s >= low && s < low + 100).flatMap(([, g]) => g);
    if (family.length === 0) continue;
    responses[range] = response(
      low,
      family,
      `Any ${low === 400 ? 'client' : 'server'} error of this operation (each is listed under its status): ${codeList(family)}`,
      { 'X-Request-Id': REQUEST_ID_HEADER },
    );
  }
  return responses;
}

/** The headers of a successful answer of an operation. */
export function successHeaders(auth: Auth): Record<string, unknown> {
  return { 'X-Request-Id': REQUEST_ID_HEADER, ...(auth === 'basic' ? RATE_LIMIT_HEADERS : {}) };
}

export function authOf(security: unknown): Auth {
  const schemes = Array.isArray(security) ? security.flatMap((s) => Object.keys(s as object)) : [];
  if (schemes.includes('basicAuth')) return 'basic';
  if (schemes.includes('adminToken')) return 'bearer';
  if (schemes.includes('feedToken')) return 'feed';
  return 'none';
}
