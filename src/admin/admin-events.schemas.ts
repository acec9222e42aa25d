// Schemas of the admin events routes: they validate input (a bad filter is a clear 400) and
// document the routes in the OpenAPI document.

import { EVENT_STATUSES } from '../eventlog/event.model.js';
import { PIPELINE_ERROR_CODES } from '../eventlog/event-codes.js';
import { EVENT_TYPES } from '../eventlog/event-types.js';

const statusList = `^(${EVENT_STATUSES.join('|')})(,(${EVENT_STATUSES.join('|')}))*$`;
const dateTime = { type: 'string', format: 'date-time', maxLength: 40 } as const;

/** The filter, as query parameters (list) or as a JSON object (replay of everything matching). */
const filterProperties = {
  status: { type: 'string', pattern: statusList, description: 'Comma-separated statuses, e.g. REJECTED,FAILED' },
  subscriber: { type: 'string', minLength: 1, maxLength: 128 },
  eventType: { type: 'string', enum: [...EVENT_TYPES] },
  dealer: { type: 'string', minLength: 1, maxLength: 64, description: 'The dealer the pipeline resolved' },
  errorCode: { type: 'string', enum: [...PIPELINE_ERROR_CODES] },
  q: { type: 'string', minLength: 1, maxLength: 200, description: 'Words that must all occur in the raw body (full-text index)' },
  since: { ...dateTime, description: 'Received at or after (ISO 8601)' },
  until: { ...dateTime, description: 'Received before (ISO 8601)' },
} as const;

export const listEventsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...filterProperties,
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    cursor: { type: 'string', minLength: 1, maxLength: 512, description: 'nextCursor of the previous page' },
  },
} as const;

export const replayMatchingBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    filter: { type: 'object', additionalProperties: false, properties: filterProperties },
  },
  required: ['filter'],
} as const;

export const requestIdParamsSchema = {
  type: 'object',
  required: ['requestId'],
  properties: { requestId: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const jobIdParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

const codeList = { type: 'array', items: { type: 'string' } } as const;

/** What the list and the detail both say of an event. */
const eventSummaryProperties = {
  requestId: { type: 'string' },
  subscriber: { type: 'string' },
  eventType: { type: 'string' },
  status: { type: 'string', enum: [...EVENT_STATUSES] },
  receivedAt: { type: 'string', format: 'date-time' },
  processedAt: { type: ['string', 'null'], format: 'date-time' },
  attempts: { type: 'integer' },
  dealerUuid: { type: ['string', 'null'] },
} as const;

export const eventListSchema = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: { ...eventSummaryProperties, errorCodes: codeList, warningCodes: codeList },
      },
    },
    nextCursor: { type: ['string', 'null'] },
  },
} as const;

const problem = { type: 'object', additionalProperties: true } as const;

export const eventDetailSchema = {
  type: 'object',
  properties: {
    ...eventSummaryProperties,
    idempotencyKey: { type: ['string', 'null'] },
    rawBody: { type: ['string', 'null'], description: 'The body exactly as received; null once retention purged it' },
    canonical: { type: ['object', 'null'], additionalProperties: true },
    errors: { type: 'array', items: problem },
    warnings: { type: 'array', items: problem },
    lastError: { type: ['string', 'null'], description: 'Internal detail of the last transient failure' },
    timeline: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          attempt: { type: 'integer' },
          workerId: { type: ['string', 'null'] },
          at: { type: 'string', format: 'date-time' },
          outcome: { type: 'string', enum: ['PROCESSED', 'REJECTED', 'RETRY', 'FAILED', 'REPLAYED'] },
          cause: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

export const replayJobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    filter: { type: 'object', additionalProperties: true },
    actor: { type: 'string' },
    status: { type: 'string', enum: ['RUNNING', 'DONE', 'FAILED'] },
    total: { type: 'integer' },
    replayed: { type: 'integer' },
    error: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;
