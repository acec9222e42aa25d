// Parses `Authorization: Basic base64(username:password)` (RFC 7617).
import { AppError } from '../errors.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export function parseBasicAuth(header: string | undefined): Credentials {
  if (header === undefined || header.trim() === '') {
    throw new AppError('NULL_CREDENTIALS', 'Authorization header with Basic credentials is required');
  }
  const match = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (!match) {
    throw new AppError('MALFORMED_CREDENTIALS', 'Authorization header must be "Basic base64(username:password)"');
  }
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    throw new AppError('MALFORMED_CREDENTIALS', 'Basic credentials must decode to "username:password"');
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
