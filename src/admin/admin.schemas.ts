// What every admin route shares in its schema: errors in the plain envelope.
export { plainErrorSchema as adminErrorSchema, plainErrors as adminErrors } from '../http/error-schemas.js';
