// JSON schemas of the Leads v2 contract (../shared/spec/save-a-lead.txt). They drive request
// validation, the unknown-field warnings and the OpenAPI document.

const text = (maxLength = 255) => ({ type: ['string', 'null'], maxLength }) as const;
const requiredText = (maxLength = 255) => ({ type: 'string', minLength: 1, maxLength }) as const;

const LEAD_SOURCES = ['MMC', 'BMW_SPARC', 'AUTOPOINT'] as const;
const LEAD_STATUSES = ['NEW'] as const;
const LEAD_TYPES = ['RECALL', 'SERVICE_DEMAND'] as const;

export const saveLeadBodySchema = {
  type: 'object',
  required: ['customer', 'vehicle', 'dealerDetails', 'services', 'status', 'lastContactDate', 'leadType'],
  properties: {
    customer: {
      type: 'object',
      required: ['uuid'],
      properties: { uuid: { ...requiredText(64), description: 'Customer UUID issued by the platform' } },
    },
    vehicle: {
      type: 'object',
      required: ['uuid'],
      properties: {
        uuid: { ...requiredText(64), description: 'Vehicle UUID issued by the platform' },
        trackingId: text(),
        topic: text(),
        description: text(4000),
      },
    },
    dealerDetails: {
      type: 'object',
      required: ['source'],
      properties: {
        name: text(),
        code: text(),
        source: { type: 'string', enum: LEAD_SOURCES },
      },
    },
    services: {
      type: 'array',
      minItems: 1,
      maxItems: 200,
      items: {
        type: 'object',
        required: ['code'],
        properties: {
          name: text(),
          code: requiredText(),
          type: text(),
          dueDate: { type: ['string', 'null'], format: 'optional-date', description: 'yyyy-MM-dd' },
        },
      },
    },
    campaign: {
      type: ['object', 'null'],
      properties: { name: text(), code: text() },
    },
    status: { type: 'string', enum: LEAD_STATUSES },
    lastContactDate: {
      type: 'string',
      format: 'lead-datetime',
      description: 'yyyy-MM-dd HH:mm:ssZ; Z or a numeric offset. Stored and returned as the UTC instant.',
    },
    leadId: { ...text(), description: 'The partner’s lead id; the same leadId for a dealer is the same lead' },
    webId: text(),
    leadType: { type: 'string', enum: LEAD_TYPES },
  },
} as const;

export const dealerParamsSchema = {
  type: 'object',
  required: ['dealerUuid'],
  properties: { dealerUuid: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const leadParamsSchema = {
  type: 'object',
  required: ['dealerUuid', 'prospectUuid'],
  properties: {
    dealerUuid: { type: 'string', minLength: 1, maxLength: 64 },
    prospectUuid: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;

const warningsSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: { warningCode: { type: 'string' }, warningDescription: { type: 'string' } },
  },
} as const;

const leadErrorSchema = {
  type: ['object', 'null'],
  properties: { errorCode: { type: 'string' }, errorDescription: { type: 'string' }, errorUID: { type: 'string' } },
} as const;

export const saveLeadResponseSchema = {
  type: 'object',
  properties: {
    error: leadErrorSchema,
    isNewCreated: { type: ['boolean', 'null'] },
    prospectUuid: { type: ['string', 'null'] },
    statusCode: { type: 'integer' },
    warnings: warningsSchema,
  },
} as const;

/** Spring Boot's error body, used by the leads API for every 4xx. */
export const leadClientErrorSchema = {
  type: 'object',
  properties: {
    timestamp: { type: 'string' },
    status: { type: 'integer' },
    error: { type: 'string' },
    errorCode: { type: 'string' },
    message: { type: 'string' },
    path: { type: 'string' },
  },
} as const;

const nullableString = { type: ['string', 'null'] } as const;

const storedLeadSchema = {
  type: 'object',
  properties: {
    prospectUuid: { type: 'string' },
    dealerUuid: { type: 'string' },
    customer: { type: 'object', properties: { uuid: { type: 'string' } } },
    vehicle: {
      type: 'object',
      properties: { uuid: { type: 'string' }, trackingId: nullableString, topic: nullableString, description: nullableString },
    },
    dealerDetails: {
      type: 'object',
      properties: { name: nullableString, code: nullableString, source: { type: 'string' } },
    },
    services: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: nullableString, code: { type: 'string' }, type: nullableString, dueDate: nullableString },
      },
    },
    campaign: { type: ['object', 'null'], properties: { name: nullableString, code: nullableString } },
    status: { type: 'string' },
    lastContactDate: { type: 'string' },
    leadId: nullableString,
    webId: nullableString,
    leadType: { type: 'string' },
    saveCount: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const getLeadResponseSchema = {
  type: 'object',
  properties: {
    error: leadErrorSchema,
    statusCode: { type: 'integer' },
    warnings: warningsSchema,
    lead: storedLeadSchema,
  },
} as const;
