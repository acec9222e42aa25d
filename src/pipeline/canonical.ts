// The canonical chat summary: the fields of the contract's example, snake_case, and their types.
// After transformation every event must fit this shape; fields outside it are dropped with a
// warning. Optional fields may be absent or null.
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { inspectJson } from '../core/json-shape.js';
import { describeValidationError } from '../core/schema-errors.js';
import type { EventError } from '../eventlog/event-codes.js';

const optionalString = { type: ['string', 'null'], maxLength: 10000 } as const;
const optionalId = { type: ['string', 'null'], maxLength: 255 } as const;

const canonicalSchema = {
  type: 'object',
  required: ['dealer_uuid', 'event_timestamp'],
  properties: {
    customer_name: optionalId,
    vin: { type: ['string', 'null'], maxLength: 32 },
    chat_code: optionalId,
    vehicle_uuid: optionalId,
    appointment_uuid: optionalId,
    dealer_uuid: { type: 'string', minLength: 1, maxLength: 255 },
    event_timestamp: { type: 'integer' },
    summary: { type: ['string', 'null'], maxLength: 100000 },
    escalation_flag: { type: ['boolean', 'null'] },
    line_items: {
      type: ['array', 'null'],
      maxItems: 1000,
      items: {
        type: 'object',
        properties: { description: optionalString, payable: { type: ['boolean', 'null'] } },
      },
    },
    transcript: {
      type: ['array', 'null'],
      maxItems: 10000,
      items: {
        type: 'object',
        properties: { customer: { type: ['string', 'null'] }, assistant: { type: ['string', 'null'] } },
      },
    },
    media: {
      type: ['array', 'null'],
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['type', 'url'],
        properties: {
          type: { type: 'string', enum: ['image', 'video'] },
          url: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 4096 },
        },
      },
    },
  },
} as const;

/**
 * What the OpenAPI document shows as the gate's body: the canonical fields, recommended, while
 * any JSON object is accepted (a partner's integration may transform its own shape). For the
 * document only: the gate reads raw bytes and checks them itself.
 */
export const recommendedEventBody = {
  type: 'object',
  additionalProperties: true,
  description:
    'Any JSON object (its shape is agreed per partner and mapped by its integration). The recommended body is the canonical chat summary below; the dealer must be identifiable, and event_timestamp (epoch ms) defaults to the receipt time.',
  properties: canonicalSchema.properties,
} as const;

export type CanonicalRecord = Record<string, unknown> & { dealer_uuid: string; event_timestamp: number };

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv, ['uri']);
const validate = ajv.compile(canonicalSchema);

const COLUMN_FIELDS = ['vin', 'chat_code', 'vehicle_uuid', 'dealer_uuid'] as const;

/** Every rule the record breaks, as INVALID_FIELD errors naming the field. */
export function canonicalProblems(record: Record<string, unknown>): EventError[] {
  const problems: EventError[] = validate(record)
    ? []
    : (validate.errors ?? []).map((e) => ({ errorCode: 'INVALID_FIELD' as const, errorMessage: describeValidationError(e, 'event') }));
  // These fields become columns and lookup keys, and PostgreSQL text cannot hold U+0000. (Inside
  // the stored JSON record it is escaped, so free text such as summary may contain it.)
  for (const field of COLUMN_FIELDS) {
    if (inspectJson(record[field])?.kind === 'nul') {
      problems.push({ errorCode: 'INVALID_FIELD', errorMessage: `Field '${field}' must not contain the NUL character (U+0000)` });
    }
  }
  return problems;
}

/** The record restricted to the canonical fields (nested unknown fields are dropped too). */
export function pickCanonical(record: Record<string, unknown>): { record: Record<string, unknown>; dropped: string[] } {
  const dropped: string[] = [];
  const pick = (schema: { properties?: Record<string, unknown>; items?: unknown }, value: unknown, path: string): unknown => {
    if (Array.isArray(value) && schema.items) {
      return value.map((item, i) => pick(schema.items as typeof schema, item, `${path}[${i}]`));
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !schema.properties) return value;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      const childSchema = Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
      if (childSchema === undefined) dropped.push(childPath);
      else out[key] = pick(childSchema as typeof schema, child, childPath);
    }
    return out;
  };
  return { record: pick(canonicalSchema as never, record, '') as Record<string, unknown>, dropped };
}
