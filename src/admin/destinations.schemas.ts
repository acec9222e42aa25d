// JSON schemas of /admin/v1/destinations and /admin/v1/messages: they validate requests and
// document the API (docs/openapi.json).
import { DESTINATION_NAME_SCHEMA, DESTINATION_SECRET_SCHEMA, DESTINATION_WRITABLE_PROPERTIES } from '../delivery/destination.rules.js';
import { OUTBOUND_TYPES } from '../outbox/outbound-types.js';

const name = DESTINATION_NAME_SCHEMA;
const isoTime = { type: 'string', format: 'date-time' };
const nullableTime = { type: ['string', 'null'], format: 'date-time' };
const writable = DESTINATION_WRITABLE_PROPERTIES;

export const destinationCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'eventTypes'],
  properties: {
    name,
    ...writable,
    secret: DESTINATION_SECRET_SCHEMA,
  },
} as const;

export const destinationReplaceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['eventTypes'],
  properties: writable,
} as const;

export const destinationNameParams = { type: 'object', required: ['name'], properties: { name } } as const;

const health = {
  type: 'object',
  required: ['state', 'failureStreak', 'lastSuccessAt', 'lastFailureAt', 'breakerOpenUntil', 'waiting', 'failed', 'oldestWaitingAt'],
  properties: {
    state: {
      type: 'string',
      enum: ['healthy', 'failing', 'breaker-open', 'disabled'],
      description: '`breaker-open`: 10 or more failures in a row; messages wait without spending attempts while one probe is tried.',
    },
    failureStreak: { type: 'integer' },
    lastSuccessAt: nullableTime,
    lastFailureAt: nullableTime,
    breakerOpenUntil: nullableTime,
    waiting: { type: 'integer', description: 'Messages PENDING.' },
    failed: { type: 'integer', description: 'Dead letters (FAILED).' },
    oldestWaitingAt: nullableTime,
  },
};

export const destinationSchema = {
  type: 'object',
  required: [
    'name',
    'kind',
    'url',
    'format',
    'to',
    'eventTypes',
    'dealers',
    'ordering',
    'retrySchedule',
    'rateLimit',
    'enabled',
    'disabledReason',
    'createdAt',
    'updatedAt',
    'health',
  ],
  properties: {
    name,
    ...writable,
    url: { ...writable.url, type: ['string', 'null'], description: 'null for a pull or email destination.' },
    to: { ...writable.to, type: ['array', 'null'], description: 'The recipients of an email destination; null for the others.' },
    disabledReason: { type: ['string', 'null'] },
    previousSecretUntil: { ...nullableTime, description: 'Until then the secret before the last rotation also signs.' },
    createdAt: isoTime,
    updatedAt: isoTime,
    health,
  },
} as const;

/** A created destination, or a rotated secret: the only answers that show it (and a pull destination's feed token). */
export const destinationWithSecretSchema = {
  ...destinationSchema,
  required: [...destinationSchema.required, 'secret'],
  properties: {
    ...destinationSchema.properties,
    secret: { type: 'string' },
    feedToken: { type: 'string', description: 'A pull destination created: the Bearer token of its feed, shown this once.' },
  },
} as const;

/** A rotated feed token: the only answer that shows the new one. */
export const destinationWithFeedTokenSchema = {
  ...destinationSchema,
  required: [...destinationSchema.required, 'feedToken'],
  properties: {
    ...destinationSchema.properties,
    feedToken: { type: 'string', description: 'The Bearer token of the feed, shown this once; the previous one no longer opens it.' },
  },
} as const;

export const destinationListSchema = {
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: destinationSchema } },
} as const;

export const rotateSecretBodySchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { secret: { type: 'string', description: 'The new secret; generated when omitted.' } },
} as const;

const attempt = {
  type: 'object',
  required: ['attempt', 'at', 'durationMs', 'statusCode', 'error'],
  properties: {
    attempt: { type: 'integer' },
    at: isoTime,
    durationMs: { type: 'integer' },
    statusCode: { type: ['integer', 'null'] },
    responseHeaders: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    responseBody: { type: ['string', 'null'], description: 'The first 16 KB.' },
    error: { type: ['string', 'null'], description: 'Why no answer was had: timeout, connection reset, refused by the SSRF guard, …' },
  },
};

export const messageSchema = {
  type: 'object',
  required: [
    'id',
    'destination',
    'type',
    'dealerUuid',
    'sourceId',
    'status',
    'attempts',
    'createdAt',
    'nextAttemptAt',
    'deliveredAt',
    'lastError',
  ],
  properties: {
    id: { type: 'string', description: 'The webhook-id header: the same on every attempt.' },
    destination: name,
    type: { type: 'string', enum: [...OUTBOUND_TYPES] },
    dealerUuid: { type: ['string', 'null'] },
    sourceId: { type: 'string', description: "The event's requestId or the lead's prospectUuid." },
    status: { type: 'string', enum: ['PENDING', 'DELIVERED', 'FAILED'] },
    attempts: { type: 'integer' },
    createdAt: isoTime,
    nextAttemptAt: nullableTime,
    deliveredAt: nullableTime,
    lastError: { type: ['string', 'null'] },
    contentType: { type: 'string', enum: ['application/json', 'application/xml'], description: 'What the payload is.' },
    payload: {
      anyOf: [{ type: 'object', additionalProperties: true }, { type: 'string' }],
      description:
        'The body as sent: the envelope {type, timestamp, data} (application/json), or the ADF document as a string (application/xml; empty when none could be made, see lastError).',
    },
    attemptLog: { type: 'array', items: attempt },
  },
} as const;

export const messageListSchema = {
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: { items: { type: 'array', items: messageSchema }, nextCursor: { type: ['string', 'null'] } },
} as const;

const messageFilterProperties = {
  destination: name,
  status: { type: 'string', enum: ['PENDING', 'DELIVERED', 'FAILED'] },
  type: { type: 'string', enum: [...OUTBOUND_TYPES] },
  dealer: { type: 'string', maxLength: 200 },
  source: { type: 'string', maxLength: 200 },
  since: isoTime,
  until: isoTime,
};

export const messageListQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...messageFilterProperties,
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    cursor: { type: 'string', pattern: '^[0-9]{1,18}$', description: 'nextCursor of the previous page.' },
  },
} as const;

export const messageIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^msg_[0-9a-f]{32}$' } },
} as const;

export const bulkRetryBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['filter'],
  properties: {
    filter: {
      type: 'object',
      additionalProperties: false,
      properties: messageFilterProperties,
      description: 'Which FAILED messages to send again (status is FAILED whatever is given).',
    },
  },
} as const;

export const recoverBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['since'],
  properties: { since: { ...isoTime, description: 'Every FAILED message of this destination created since then is sent again.' } },
} as const;

export const retriedSchema = { type: 'object', required: ['retried'], properties: { retried: { type: 'integer' } } } as const;

export const testSendBodySchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { type: { type: 'string', enum: [...OUTBOUND_TYPES] } },
} as const;

export const testSendResultSchema = {
  type: 'object',
  required: ['delivered', 'statusCode', 'error', 'durationMs'],
  properties: {
    delivered: { type: 'boolean' },
    statusCode: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] },
    durationMs: { type: 'integer' },
    responseBody: { type: ['string', 'null'] },
  },
} as const;
