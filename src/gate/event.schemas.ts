// Schemas of the events endpoints, for the OpenAPI document. The gate accepts any JSON object,
// so its body is checked by the gate itself (event.service.ts), not by a schema.

const errorItem = {
  type: 'object',
  properties: { errorCode: { type: 'string' }, errorMessage: { type: 'string' } },
} as const;
const warningItem = {
  type: 'object',
  properties: { warningCode: { type: 'string' }, warningMessage: { type: 'string' } },
} as const;

export const eventsEnvelopeSchema = {
  type: 'object',
  properties: {
    errors: { type: 'array', items: errorItem },
    warnings: { type: 'array', items: warningItem },
    requestId: { type: ['string', 'null'], format: 'uuid' },
  },
} as const;

export const eventStatusParamsSchema = {
  type: 'object',
  required: ['requestId'],
  properties: { requestId: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const eventStatusResponseSchema = {
  type: 'object',
  properties: {
    requestId: { type: 'string' },
    status: { type: 'string', enum: ['RECEIVED', 'PROCESSED', 'REJECTED', 'FAILED'] },
    receivedAt: { type: 'string', format: 'date-time' },
    processedAt: { type: ['string', 'null'], format: 'date-time' },
    errors: { type: 'array', items: errorItem },
    warnings: { type: 'array', items: warningItem },
    event: {
      type: ['object', 'null'],
      additionalProperties: true,
      description: 'The canonical chat summary (snake_case fields of the contract) once PROCESSED',
    },
  },
} as const;

export const gateBodyDescription =
  'Any JSON object (its shape is agreed per partner). It must identify the dealer, and may carry event_timestamp in epoch milliseconds.';
