// The outbound types: what a destination can subscribe to, and the `data` each one carries in
// the envelope {"type", "timestamp", "data"}. One catalogue: the outbox writes it, the admin API
// validates subscriptions against it, the OpenAPI document publishes its schemas.
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
}

const errorList = {
  type: 'array',
  items: {
    type: 'object',
    required: ['errorCode', 'errorDescription'],
    properties: { errorCode: { type: 'string' }, errorDescription: { type: 'string' } },
  },
} as const;

/** The JSON Schema of each type's `data`. */
export const OUTBOUND_DATA_SCHEMAS: Readonly<Record<OutboundType, object>> = {
  'chat_summary.processed': {
    type: 'object',
    required: ['requestId', 'partner', 'dealerUuid', 'eventType', 'record'],
    properties: {
      requestId: { type: 'string', format: 'uuid' },
      partner: { type: 'string', description: 'The subscriber (partner) that sent the event.' },
      dealerUuid: { type: 'string', format: 'uuid' },
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
      dealerUuid: { type: ['string', 'null'], format: 'uuid' },
      eventType: { type: 'string' },
      errors: errorList,
    },
  },
  'lead.created': { type: 'object', description: 'The saved lead as GET …/leads/{prospectUuid} returns it (saveCount 1).' },
  'lead.updated': { type: 'object', description: 'The saved lead as GET …/leads/{prospectUuid} returns it (saveCount > 1).' },
};
