// What every admin route shares in its schema: the error envelope, the tag and the security.

/** The plain envelope every admin error is answered in. */
export const adminErrorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, requestId: { type: 'string' } },
    },
  },
} as const;

/** Error responses of an admin route. */
export const adminErrors = { '4xx': adminErrorSchema, '5xx': adminErrorSchema } as const;
