// Schemas of the admin resource routes and the dealer views. Body fields reuse the provisioning
// file's own rules (provisioning.schema.ts), so a value the API accepts is one `apply` accepts.
import { EVENT_STATUSES } from '../eventlog/event.model.js';
import { provisioningFileSchema } from '../provisioning/provisioning.schema.js';

const file = provisioningFileSchema.properties;
const dealerFields = file.dealers.items.properties;
const subscriberFields = file.subscribers.items.properties;
const customerFields = file.customers.items.properties;
const vehicleFields = customerFields.vehicles.items.properties;
const integrationFields = file.integrations.items.properties;

const id = dealerFields.uuid;
const username = subscriberFields.username;
const timestamp = { type: 'string', format: 'date-time' } as const;
const nullableText = { type: ['string', 'null'] } as const;
const dateTimeFilter = { type: 'string', format: 'date-time', maxLength: 40 } as const;

// ---- path parameters ----

export const uuidParamsSchema = { type: 'object', required: ['uuid'], properties: { uuid: id } } as const;
export const dealerParamsSchema = { type: 'object', required: ['dealerUuid'], properties: { dealerUuid: id } } as const;
export const customerParamsSchema = { type: 'object', required: ['customerUuid'], properties: { customerUuid: id } } as const;
export const usernameParamsSchema = { type: 'object', required: ['username'], properties: { username } } as const;
export const integrationParamsSchema = {
  type: 'object',
  required: ['subscriber', 'eventType'],
  properties: { subscriber: username, eventType: integrationFields.eventType },
} as const;
export const leadParamsSchema = {
  type: 'object',
  required: ['dealerUuid', 'prospectUuid'],
  properties: { dealerUuid: id, prospectUuid: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

// ---- query strings ----

const page = {
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  cursor: { type: 'string', minLength: 1, maxLength: 512, description: 'nextCursor of the previous page (opaque)' },
} as const;

const query = <P extends Record<string, object>>(properties: P) =>
  ({ type: 'object', additionalProperties: false, properties: { ...properties, ...page } }) as const;

export const listDealersQuerySchema = query({
  q: { type: 'string', minLength: 1, maxLength: 255, description: 'Prefix of the name or the UUID (case-insensitive)' },
});
export const listCustomersQuerySchema = query({
  q: { type: 'string', minLength: 1, maxLength: 255, description: 'Part of the name or the email (case-insensitive)' },
});
export const listVehiclesQuerySchema = query({ vin: { type: 'string', minLength: 1, maxLength: 17, description: 'Exact VIN' } });
export const listSubscribersQuerySchema = query({
  q: { type: 'string', minLength: 1, maxLength: 128, description: 'Prefix of the username (case-insensitive)' },
});
export const listIntegrationsQuerySchema = query({ subscriber: username });
export const listAuditQuerySchema = query({
  entity: {
    type: 'string',
    minLength: 1,
    maxLength: 64,
    description: 'dealer, subscriber, customer, vehicle, integration, event, replay-job, …',
  },
  key: { type: 'string', minLength: 1, maxLength: 300, description: 'The entity key (integrations: subscriber/eventType)' },
  actor: { type: 'string', minLength: 1, maxLength: 64, description: 'admin-api or apply' },
});
export const listChatSummariesQuerySchema = query({
  escalated: { type: 'boolean', description: 'escalation_flag true or false (summaries without the flag match neither)' },
  since: { ...dateTimeFilter, description: 'event_timestamp at or after (ISO 8601)' },
  until: { ...dateTimeFilter, description: 'event_timestamp before (ISO 8601)' },
  vin: { type: 'string', minLength: 1, maxLength: 64 },
});
export const listLeadsQuerySchema = query({
  status: { type: 'string', minLength: 1, maxLength: 64 },
  leadType: { type: 'string', minLength: 1, maxLength: 64 },
  since: { ...dateTimeFilter, description: 'Created at or after (ISO 8601)' },
  until: { ...dateTimeFilter, description: 'Created before (ISO 8601)' },
});

// ---- bodies ----

const body = <P extends Record<string, object>, R extends readonly (keyof P & string)[]>(properties: P, required: R) =>
  ({ type: 'object', additionalProperties: false, required, properties }) as const;
/** A PATCH body: any of the fields, at least one. */
const patch = <P extends Record<string, object>>(properties: P) =>
  ({ type: 'object', additionalProperties: false, minProperties: 1, properties }) as const;

const customerData = {
  firstName: customerFields.firstName,
  lastName: customerFields.lastName,
  email: customerFields.email,
  phone: customerFields.phone,
};
const vehicleData = { vin: vehicleFields.vin, year: vehicleFields.year, make: vehicleFields.make, model: vehicleFields.model };
const integrationData = {
  active: integrationFields.active,
  dealerIdField: integrationFields.dealerIdField,
  dealerMap: integrationFields.dealerMap,
  schema: integrationFields.schema,
  transform: integrationFields.transform,
};

export const createDealerBodySchema = body({ uuid: dealerFields.uuid, name: dealerFields.name }, ['uuid', 'name']);
export const patchDealerBodySchema = body({ name: dealerFields.name }, ['name']);
export const createCustomerBodySchema = body({ uuid: customerFields.uuid, ...customerData }, ['uuid']);
export const patchCustomerBodySchema = patch(customerData);
export const createVehicleBodySchema = body({ uuid: vehicleFields.uuid, ...vehicleData }, ['uuid']);
export const patchVehicleBodySchema = patch(vehicleData);

const grants = subscriberFields.grants;
export const createSubscriberBodySchema = body(
  { username, password: subscriberFields.password, disabled: subscriberFields.disabled, rateLimit: subscriberFields.rateLimit, grants },
  ['username', 'password', 'grants'],
);
export const passwordBodySchema = body(
  { password: subscriberFields.password, passwordOverlapHours: subscriberFields.passwordOverlapHours },
  ['password'],
);
export const rateLimitBodySchema = body({ rateLimit: subscriberFields.rateLimit }, ['rateLimit']);
export const grantsBodySchema = body({ grants }, ['grants']);

export const createIntegrationBodySchema = body({ subscriber: username, eventType: integrationFields.eventType, ...integrationData }, [
  'subscriber',
  'eventType',
]);
export const patchIntegrationBodySchema = patch(integrationData);

// ---- responses ----

const pageOf = (item: object) =>
  ({ type: 'object', properties: { items: { type: 'array', items: item }, nextCursor: { type: ['string', 'null'] } } }) as const;

export const dealerSchema = {
  type: 'object',
  properties: { uuid: { type: 'string' }, name: { type: 'string' }, createdAt: timestamp, updatedAt: timestamp },
} as const;

export const customerSchema = {
  type: 'object',
  properties: {
    uuid: { type: 'string' },
    dealerUuid: { type: 'string' },
    firstName: nullableText,
    lastName: nullableText,
    email: nullableText,
    phone: nullableText,
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const vehicleSchema = {
  type: 'object',
  properties: {
    uuid: { type: 'string' },
    dealerUuid: { type: 'string' },
    customerUuid: { type: 'string' },
    vin: nullableText,
    year: { type: ['integer', 'null'] },
    make: nullableText,
    model: nullableText,
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const subscriberSchema = {
  type: 'object',
  description: 'A partner account. Its password is never shown, not even as a hash.',
  properties: {
    username: { type: 'string' },
    disabled: { type: 'boolean' },
    rateLimit: {
      type: ['object', 'null'],
      description: 'Requests per second and burst on the partner endpoints; null = unlimited',
      properties: { requestsPerSecond: { type: 'number' }, burst: { type: 'integer' } },
    },
    grants: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          scope: { type: 'string' },
          // '*' (MultiDealer) or a list of dealer UUIDs: a free-form value for the serializer.
          dealers: { description: '"*" (every dealer) or a list of dealer UUIDs' },
        },
      },
    },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const integrationSchema = {
  type: 'object',
  properties: {
    subscriber: { type: 'string' },
    eventType: { type: 'string' },
    active: { type: 'boolean' },
    dealerIdField: { type: 'string' },
    dealerMap: { type: 'object', additionalProperties: { type: 'string' } },
    schema: { description: 'JSON Schema applied to the raw body, or null' },
    transform: nullableText,
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const integrationListItemSchema = {
  type: 'object',
  properties: {
    ...integrationSchema.properties,
    lastEvent: {
      type: ['object', 'null'],
      description: "The partner's latest event of this type (by receipt) with its status now; null when it never sent one",
      properties: {
        requestId: { type: 'string' },
        receivedAt: timestamp,
        status: { type: 'string', enum: EVENT_STATUSES },
        processedAt: { ...timestamp, type: ['string', 'null'] },
        errorCodes: { type: 'array', items: { type: 'string' } },
      },
    },
  },
} as const;

export const auditEntrySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    at: timestamp,
    actor: { type: 'string' },
    action: { type: 'string' },
    entity: { type: 'string' },
    key: { type: 'string' },
    before: { description: 'The entity before the change (null on create); secrets are never included' },
    after: { description: 'The entity after the change' },
  },
} as const;

export const chatSummarySchema = {
  type: 'object',
  properties: {
    requestId: { type: 'string' },
    dealerUuid: { type: 'string' },
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

export const leadSummarySchema = {
  type: 'object',
  properties: {
    prospectUuid: { type: 'string' },
    leadId: nullableText,
    webId: nullableText,
    customerUuid: { type: 'string' },
    customerName: { ...nullableText, description: "The customer's first and last name as provisioned (null: neither is known)" },
    vehicleUuid: { type: 'string' },
    vin: { ...nullableText, description: "The vehicle's VIN as provisioned (null: unknown)" },
    source: { type: 'string' },
    status: { type: 'string' },
    leadType: { type: 'string' },
    lastContactAt: timestamp,
    saveCount: { type: 'integer' },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const leadDetailSchema = {
  type: 'object',
  additionalProperties: true,
  description: 'The saved lead: its normalized body plus prospectUuid, dealerUuid, saveCount, createdAt, updatedAt',
} as const;

export const dealerPageSchema = pageOf(dealerSchema);
export const customerPageSchema = pageOf(customerSchema);
export const vehiclePageSchema = pageOf(vehicleSchema);
export const subscriberPageSchema = pageOf(subscriberSchema);
export const integrationPageSchema = pageOf(integrationListItemSchema);
export const auditPageSchema = pageOf(auditEntrySchema);
export const chatSummaryPageSchema = pageOf(chatSummarySchema);
export const leadPageSchema = pageOf(leadSummarySchema);
