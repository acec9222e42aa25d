// The outbound types: what a destination can subscribe to, and the `data` each one carries in
// the envelope {"type", "timestamp", "data"}. One catalogue: the outbox writes it, the admin API
// validates subscriptions against it, the OpenAPI document publishes its schemas.
import type { LeadSave } from './adf-payload.js';

export const OUTBOUND_TYPES = ['chat_summary.processed', 'event.rejected', 'lead.created', 'lead.updated'] as const;

export type OutboundType = (typeof OUTBOUND_TYPES)[number];

export const isOutboundType = (value: unknown): value is OutboundType =>
  typeof value === 'string' && (OUTBOUND_TYPES as readonly string[]).includes(value);

/** One message's content before it is addressed to destinations. */
export interface Outbound {
  readonly type: OutboundType;
  /** The dealer the outcome belongs to (null: an event rejected before its dealer was known). */
  readonly dealerUuid: string | null;
  /** The event's requestId or the lead's prospect UUID: how operators find a source's messages. */
  readonly sourceId: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** Lead types: the save itself, for destinations that take leads as ADF documents. */
  readonly leadSave?: LeadSave;
}

/** The types an `adf-xml` destination may carry: leads. */
export const ADF_TYPES: readonly OutboundType[] = ['lead.created', 'lead.updated'];

const errorList = {
  type: 'array',
  items: {
    type: 'object',
    required: ['errorCode', 'errorMessage'],
    properties: { errorCode: { type: 'string' }, errorMessage: { type: 'string' } },
  },
} as const;

/** The JSON Schema of each type's `data`. */
const OUTBOUND_DATA_SCHEMAS: Readonly<Record<OutboundType, object>> = {
  'chat_summary.processed': {
    type: 'object',
    required: ['requestId', 'partner', 'dealerUuid', 'eventType', 'record'],
    properties: {
      requestId: { type: 'string', format: 'uuid' },
      partner: { type: 'string', description: 'The subscriber (partner) that sent the event.' },
      dealerUuid: { type: 'string' },
      eventType: { type: 'string' },
      record: { type: 'object', description: 'The canonical chat summary, as the read API returns it.' },
    },
  },
  'event.rejected': {
    type: 'object',
    required: ['requestId', 'partner', 'eventType', 'errors'],
    properties: {
      requestId: { type: 'string', format: 'uuid' },
      partner: { type: 'string' },
      dealerUuid: { type: 'string', nullable: true, description: 'Null when the event was rejected before its dealer was known.' },
      eventType: { type: 'string' },
      errors: errorList,
    },
  },
  'lead.created': { type: 'object', description: 'The saved lead as GET …/leads/{prospectUuid} returns it (saveCount 1).' },
  'lead.updated': { type: 'object', description: 'The saved lead as GET …/leads/{prospectUuid} returns it (saveCount > 1).' },
};

const SIGNATURE_HEADERS = [
  { name: 'webhook-id', description: 'The message id (msg_…): the same on every attempt; deduplicate on it.' },
  { name: 'webhook-timestamp', description: 'Unix seconds when this attempt was signed; refuse old ones (e.g. > 5 min).' },
  {
    name: 'webhook-signature',
    description:
      'Space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret (two during a rotation overlap): Standard Webhooks.',
  },
].map(({ name, description }) => ({ name, in: 'header', required: true, description, schema: { type: 'string' } }));

/**
 * The outbound messages for the OpenAPI document: a schema per type under components.schemas
 * (typed clients get them) and an `x-webhooks` section (OpenAPI 3.0 has no `webhooks`) with the
 * POST each destination receives.
 */
export function outboundDocumentation(): { schemas: Record<string, object>; webhooks: Record<string, object> } {
  const schemas: Record<string, object> = {};
  const webhooks: Record<string, object> = {};
  for (const type of OUTBOUND_TYPES) {
    const schemaName = `Outbound_${type.replace('.', '_')}`;
    schemas[schemaName] = {
      type: 'object',
      required: ['type', 'timestamp', 'data'],
      properties: {
        type: { type: 'string', enum: [type] },
        timestamp: { type: 'string', format: 'date-time', description: 'When the message was created (its outcome committed).' },
        data: OUTBOUND_DATA_SCHEMAS[type],
      },
    };
    webhooks[type] = {
      post: {
        operationId: `outbound${schemaName.replace('Outbound', '')}`,
        // Sent by the service, not called on it: signed, not authenticated (see the headers).
        security: [],
        summary: `${type}: sent to every destination subscribed to it`,
        parameters: SIGNATURE_HEADERS,
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName}` } } } },
        responses: {
          '2XX': { description: 'Delivered.' },
          '410': { description: 'Gone: the destination is disabled at once; its messages wait until it is enabled.' },
          default: {
            description:
              "Any other answer, a timeout or a connection error: retried on the destination's schedule (429 and 503 honour Retry-After).",
          },
        },
      },
    };
  }
  return { schemas, webhooks };
}
