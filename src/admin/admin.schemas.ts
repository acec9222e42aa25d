// What every admin route shares in its schema: errors in the plain envelope.
export { plainErrors as adminErrors } from '../http/error-schemas.js';
