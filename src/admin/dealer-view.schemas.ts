// Schemas of the dealer views (dealer-view.routes.ts): a dealer's chat summaries and leads.
import { id, integer, listQuery, nullableText, pageSchema, pathParams, text, timestamp } from './resources/schemas.js';

const dateTimeFilter = { type: 'string', format: 'date-time', maxLength: 40 } as const;

export const leadParamsSchema = pathParams({ dealerUuid: id, prospectUuid: { type: 'string', minLength: 1, maxLength: 64 } });

export const listChatSummariesQuerySchema = listQuery({
  escalated: { type: 'boolean', description: 'escalation_flag true or false (summaries without the flag match neither)' },
  since: { ...dateTimeFilter, description: 'event_timestamp at or after (ISO 8601)' },
  until: { ...dateTimeFilter, description: 'event_timestamp before (ISO 8601)' },
  vin: { type: 'string', minLength: 1, maxLength: 64 },
});
export const listLeadsQuerySchema = listQuery({
  status: { type: 'string', minLength: 1, maxLength: 64 },
  leadType: { type: 'string', minLength: 1, maxLength: 64 },
  since: { ...dateTimeFilter, description: 'Created at or after (ISO 8601)' },
  until: { ...dateTimeFilter, description: 'Created before (ISO 8601)' },
});

const chatSummarySchema = {
  type: 'object',
  properties: {
    requestId: text,
    dealerUuid: text,
    vehicleUuid: nullableText,
    customerUuid: nullableText,
    vin: nullableText,
    chatCode: nullableText,
    eventTimestamp: timestamp,
    escalated: { type: ['boolean', 'null'] },
    record: { type: 'object', additionalProperties: true, description: 'The canonical chat summary (snake_case fields)' },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

const leadSummarySchema = {
  type: 'object',
  properties: {
    prospectUuid: text,
    leadId: nullableText,
    webId: nullableText,
    customerUuid: text,
    customerName: { ...nullableText, description: "The customer's first and last name as provisioned (null: neither is known)" },
    vehicleUuid: text,
    vin: { ...nullableText, description: "The vehicle's VIN as provisioned (null: unknown)" },
    source: text,
    status: text,
    leadType: text,
    lastContactAt: timestamp,
    saveCount: integer,
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const leadDetailSchema = {
  type: 'object',
  additionalProperties: true,
  description: 'The saved lead: its normalized body plus prospectUuid, dealerUuid, saveCount, createdAt, updatedAt',
} as const;

export const chatSummaryPageSchema = pageSchema(chatSummarySchema);
export const leadPageSchema = pageSchema(leadSummarySchema);
