// The Bearer token of a pull destination's feed (GET /feeds/v1/{name}): `dgf_` + 32 random bytes,
// shown once when made; only its SHA-256 is stored. 256 random bits need no slow hash, like the
// admin token (src/admin/admin-token.ts).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const generateFeedToken = (): string => `dgf_${randomBytes(32).toString('base64url')}`;

/** The stored form: SHA-256, hex. */
export const feedTokenDigest = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

// Compared against when there is no stored digest, so a missing destination costs the same.
const NOTHING = Buffer.alloc(32);

/** Whether `presented` is the token whose digest is `stored`, compared in constant time. */
export function isFeedToken(stored: string | null, presented: string): boolean {
  const expected = stored === null ? NOTHING : Buffer.from(stored, 'hex');
  const given = createHash('sha256').update(presented, 'utf8').digest();
  return expected.length === given.length && timingSafeEqual(expected, given) && stored !== null;
}
