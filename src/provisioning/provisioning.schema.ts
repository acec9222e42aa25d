// The provisioning file format (`dealer-gateway apply FILE`). The keys shown in the README are a
// contract; unknown keys are rejected so that a typo never silently provisions nothing.
import { SCOPES } from '../auth/scopes.js';
import {
  DESTINATION_NAME_SCHEMA,
  DESTINATION_SECRET_SCHEMA,
  DESTINATION_WRITABLE_PROPERTIES,
  type DestinationInput,
} from '../delivery/destination.rules.js';
import { EVENT_TYPES } from '../eventlog/event-types.js';

const id = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\s*]+$' } as const;
const optionalText = { type: ['string', 'null'], maxLength: 255 } as const;

export const provisioningFileSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    dealers: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['uuid', 'name'],
        properties: { uuid: id, name: { type: 'string', minLength: 1, maxLength: 255 } },
      },
    },
    subscribers: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['username', 'grants'],
        properties: {
          username: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^:\\s]+$' },
          password: { type: 'string', minLength: 8, maxLength: 1024, pattern: '^[^\\u0000]*$' },
          passwordHash: { type: 'string', minLength: 1 },
          disabled: { type: 'boolean' },
          passwordOverlapHours: { type: 'integer', minimum: 0, maximum: 720 },
          rateLimit: {
            type: ['object', 'null'],
            additionalProperties: false,
            required: ['requestsPerSecond', 'burst'],
            properties: {
              // minimum, not exclusiveMinimum: OpenAPI 3.0 (the admin routes' document) reads the
              // latter as a boolean.
              requestsPerSecond: { type: 'number', minimum: 0.001, maximum: 1_000_000 },
              burst: { type: 'integer', minimum: 1, maximum: 1_000_000 },
            },
          },
          grants: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['scope', 'dealers'],
              properties: {
                scope: { type: 'string', enum: SCOPES },
                dealers: {
                  oneOf: [
                    { type: 'string', const: '*' },
                    { type: 'array', minItems: 1, items: id },
                  ],
                },
              },
            },
          },
        },
      },
    },
    customers: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['dealer', 'uuid'],
        properties: {
          dealer: id,
          uuid: id,
          firstName: optionalText,
          lastName: optionalText,
          email: optionalText,
          phone: optionalText,
          vehicles: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['uuid'],
              properties: {
                uuid: id,
                vin: { type: ['string', 'null'], pattern: '^[A-HJ-NPR-Z0-9]{17}$' },
                year: { type: ['integer', 'null'], minimum: 1886, maximum: 2100 },
                make: optionalText,
                model: optionalText,
              },
            },
          },
        },
      },
    },
    integrations: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['subscriber', 'eventType'],
        properties: {
          subscriber: { type: 'string', minLength: 1, maxLength: 128 },
          eventType: { type: 'string', enum: EVENT_TYPES },
          active: { type: 'boolean' },
          dealerIdField: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^.]+(\\.[^.]+)*$' },
          dealerMap: { type: 'object', additionalProperties: id },
          schema: { type: ['object', 'boolean', 'null'] },
          transform: { type: ['string', 'null'], maxLength: 100000 },
        },
      },
    },
    destinations: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'eventTypes'],
        properties: { name: DESTINATION_NAME_SCHEMA, ...DESTINATION_WRITABLE_PROPERTIES, secret: DESTINATION_SECRET_SCHEMA },
      },
    },
  },
} as const;

export interface IntegrationSpec {
  subscriber: string;
  eventType: string;
  active?: boolean;
  dealerIdField?: string;
  dealerMap?: Record<string, string>;
  schema?: object | boolean | null;
  transform?: string | null;
}

export interface GrantSpec {
  scope: string;
  dealers: '*' | string[];
}

export interface SubscriberSpec {
  username: string;
  password?: string;
  passwordHash?: string;
  disabled?: boolean;
  /**
   * When this apply changes the password: hours the old one keeps working (0–720, default 24;
   * 0 = at once). Not stored; it only shapes this change.
   */
  passwordOverlapHours?: number;
  /** Requests per second and burst on the partner endpoints; absent or null = unlimited. */
  rateLimit?: RateLimitSpec | null;
  grants: GrantSpec[];
}

export interface RateLimitSpec {
  requestsPerSecond: number;
  burst: number;
}

export const DEFAULT_PASSWORD_OVERLAP_HOURS = 24;

export interface VehicleSpec {
  uuid: string;
  vin?: string | null;
  year?: number | null;
  make?: string | null;
  model?: string | null;
}

export interface CustomerSpec {
  dealer: string;
  uuid: string;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  phone?: string | null;
  vehicles?: VehicleSpec[];
}

export interface ProvisioningFile {
  dealers?: { uuid: string; name: string }[];
  subscribers?: SubscriberSpec[];
  customers?: CustomerSpec[];
  integrations?: IntegrationSpec[];
  /** Where outcomes are delivered; a secret omitted is generated on create (reported once) and kept on update. */
  destinations?: DestinationInput[];
}
