// Parses `Authorization: Basic base64(username:password)` (RFC 7617).
import { AppError } from '../core/errors.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes base64 only when it is the one canonical encoding of its bytes (padding optional):
 * Node's decoder ignores trailing garbage, so `dXNlcjpwdw` + `x` would otherwise authenticate
 * as `dXNlcjpwdw`, and one credential would have many spellings.
 */
function strictBase64(token: string): Buffer | undefined {
  const bytes = Buffer.from(token, 'base64');
  const canonical = bytes.toString('base64');
  return token === canonical || token === canonical.replace(/=+$/, '') ? bytes : undefined;
}

export function parseBasicAuth(header: string | undefined): Credentials {
  if (header === undefined || header.trim() === '') {
    throw new AppError('NULL_CREDENTIALS', 'Authorization header with Basic credentials is required');
  }
  const match = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  const token = match?.[1];
  const bytes = token === undefined ? undefined : strictBase64(token);
  if (bytes === undefined) {
    throw new AppError('MALFORMED_CREDENTIALS', 'Authorization header must be "Basic base64(username:password)"');
  }
  let decoded: string;
  try {
    decoded = utf8.decode(bytes);
  } catch {
    throw new AppError('MALFORMED_CREDENTIALS', 'Basic credentials must be UTF-8 text');
  }
  // scrypt keys its HMAC with the password, and HMAC pads short keys with zero bytes: "pw" and
  // "pw\0" would be the same password. No credential may hold U+0000.
  if (decoded.includes('\u0000')) {
    throw new AppError('MALFORMED_CREDENTIALS', 'Basic credentials must not contain the NUL character');
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    throw new AppError('MALFORMED_CREDENTIALS', 'Basic credentials must decode to "username:password"');
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
