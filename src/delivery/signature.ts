// Standard Webhooks signatures (https://www.standardwebhooks.com): receivers verify our messages
// with any of that spec's libraries, so the format is theirs to the byte, not ours to vary.
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';
// The spec asks for keys of 24 to 64 bytes; shorter is too weak, longer buys nothing for HMAC-SHA256.
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// webhook-id goes into a header as it is: visible ASCII only, so it can neither split the header
// nor differ between what we sign and what the receiver reads.
const MESSAGE_ID = /^[\x21-\x7e]+$/;

/** A new secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** The key bytes of a `whsec_…` secret; throws when the secret is not of that form. */
export function parseSecret(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error(`A webhook secret must start with "${PREFIX}"`);
  const encoded = secret.slice(PREFIX.length);
  // Buffer.from(…, 'base64') skips characters it does not know, so the form is checked first.
  if (!BASE64.test(encoded)) throw new Error(`A webhook secret must be "${PREFIX}" followed by standard base64`);
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw new Error(`A webhook secret must decode to ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes, not ${key.length}`);
  }
  return key;
}

export function isValidSecret(secret: string): boolean {
  try {
    parseSecret(secret);
    return true;
  } catch {
    return false;
  }
}

/**
 * The `webhook-signature` header: `v1,<base64 HMAC-SHA256>` per secret, space-separated. The
 * current secret comes first; during a rotation the previous one follows, so a receiver that
 * still holds the old secret keeps verifying until it switches.
 */
export function sign(secrets: readonly string[], messageId: string, timestampSeconds: number, body: string): string {
  if (secrets.length === 0) throw new Error('At least one webhook secret is needed to sign');
  if (!MESSAGE_ID.test(messageId)) throw new Error('A webhook message id must be non-empty visible ASCII');
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new Error(`A webhook timestamp must be whole Unix seconds, not ${timestampSeconds}`);
  }
  const content = `${messageId}.${timestampSeconds}.${body}`;
  return secrets.map((secret) => `v1,${createHmac('sha256', parseSecret(secret)).update(content).digest('base64')}`).join(' ');
}

/** The three headers a Standard Webhooks receiver verifies. */
export function signedHeaders(
  secrets: readonly string[],
  messageId: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': sign(secrets, messageId, timestampSeconds, body),
  };
}
