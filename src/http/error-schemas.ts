// The plain error envelope (envelopes.ts, 'plain') as a response schema, for the OpenAPI
// document of every route that answers in it: health, metrics, admin, console.

const plainErrorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, requestId: { type: 'string' } },
    },
  },
} as const;

/** Error responses of a route answering in the plain envelope. */
export const plainErrors = { '4xx': plainErrorSchema, '5xx': plainErrorSchema } as const;
