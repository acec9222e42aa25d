// Schema building blocks of the admin resources and the dealer views. Body fields reuse the
// provisioning file's own rules (provisioning.schema.ts), so a value the API accepts is one
// `apply` accepts.
import { provisioningFileSchema } from '../../provisioning/provisioning.schema.js';

/** The provisioning file's entries, whose field rules the bodies reuse. */
const file = provisioningFileSchema.properties;
export const dealerFields = file.dealers.items.properties;
export const subscriberFields = file.subscribers.items.properties;
export const customerFields = file.customers.items.properties;
export const vehicleFields = customerFields.vehicles.items.properties;
export const integrationFields = file.integrations.items.properties;

export const id = dealerFields.uuid;
export const username = subscriberFields.username;

// ---- values shown ----

export const text = { type: 'string' } as const;
export const nullableText = { type: ['string', 'null'] } as const;
export const timestamp = { type: 'string', format: 'date-time' } as const;
export const bool = { type: 'boolean' } as const;
export const integer = { type: 'integer' } as const;

// ---- path parameters ----

export const pathParams = <P extends Record<string, object>>(properties: P) =>
  ({ type: 'object', required: Object.keys(properties), properties }) as const;

export const uuidParamsSchema = pathParams({ uuid: id });
export const dealerParamsSchema = pathParams({ dealerUuid: id });
export const usernameParamsSchema = pathParams({ username });

// ---- query strings ----

const page = {
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  cursor: { type: 'string', minLength: 1, maxLength: 512, description: 'nextCursor of the previous page (opaque)' },
} as const;

/** A list's query string: its filters, then the page size and cursor. */
export const listQuery = <P extends Record<string, object>>(filters: P) =>
  ({ type: 'object', additionalProperties: false, properties: { ...filters, ...page } }) as const;

// ---- bodies ----

/** A create (or replace) body: exactly these fields, `required` among them. */
export const exactBody = <P extends Record<string, object>, R extends readonly (keyof P & string)[]>(properties: P, required: R) =>
  ({ type: 'object', additionalProperties: false, required, properties }) as const;

/** A PATCH body: any of the fields, at least one. */
export const patchBody = <P extends Record<string, object>>(properties: P) =>
  ({ type: 'object', additionalProperties: false, minProperties: 1, properties }) as const;

// ---- responses ----

/** A page of a list: its items and the cursor of the next page (null: the last one). */
export const pageSchema = (item: object) =>
  ({ type: 'object', properties: { items: { type: 'array', items: item }, nextCursor: { type: ['string', 'null'] } } }) as const;
