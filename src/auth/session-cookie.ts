// The console's session cookie: `dgw_session=v1.<expiresAt>.<nonce>.<mac>`, where mac is
// HMAC-SHA256 over the rest, keyed by a secret derived from the admin credential's digest. So
// any node holding the same credential accepts it (no session table), it expires by itself
// after 8 hours, and rotating the admin token invalidates every session. The value is never
// logged (the access log has no headers, and nothing here logs).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'dgw_session';
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** The header the console sends on every state-changing request (CSRF defence on top of SameSite). */
export const CONSOLE_HEADER = 'x-requested-with';
export const CONSOLE_HEADER_VALUE = 'dealer-gateway-console';

const VERSION = 'v1';
/** Clock skew tolerated between the node that signed a session and the one checking it. */
const SKEW_MS = 60_000;

/** The signing key: a derivation of the admin credential's digest, never the digest itself. */
export function sessionKey(adminDigest: Buffer): Buffer {
  return createHmac('sha256', adminDigest).update('dealer-gateway console session v1').digest();
}

const mac = (key: Buffer, payload: string): string => createHmac('sha256', key).update(payload).digest('base64url');

export function signSession(key: Buffer, expiresAt: number): string {
  const payload = `${VERSION}.${expiresAt}.${randomBytes(12).toString('base64url')}`;
  return `${payload}.${mac(key, payload)}`;
}

/** The session's expiry when `value` is a genuine, unexpired session; undefined otherwise. */
export function verifySession(key: Buffer, value: string, now: number): { expiresAt: number } | undefined {
  const parts = value.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION || !/^\d{1,15}$/.test(parts[1] ?? '')) return undefined;
  const expected = Buffer.from(mac(key, parts.slice(0, 3).join('.')));
  const presented = Buffer.from(parts[3] ?? '');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
  const expiresAt = Number(parts[1]);
  // Expired, or issued for longer than a session lasts (never by this code).
  if (expiresAt <= now || expiresAt > now + SESSION_TTL_MS + SKEW_MS) return undefined;
  return { expiresAt };
}

/** Every value of cookie `name` in a Cookie header (a browser may send several with one name). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) values.push(pair.slice(eq + 1).trim());
  }
  return values;
}

/**
 * Set-Cookie for a session (or, with `value` null, for clearing it). `secure` adds Secure: the
 * cookie then travels over HTTPS only (see secureCookieFor).
 */
export function sessionCookieHeader(value: string | null, secure: boolean): string {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict'];
  attributes.push(value === null ? 'Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT' : `Max-Age=${SESSION_TTL_MS / 1000}`);
  if (secure) attributes.push('Secure');
  return `${SESSION_COOKIE}=${value ?? ''}; ${attributes.join('; ')}`;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Secure unless the request is plain HTTP to a loopback name: the console over HTTP works on the
 * machine itself (development, an SSH tunnel); anywhere else the cookie is HTTPS-only, so a
 * console reached over plain HTTP on a network cannot sign in (put TLS in front of it).
 */
export function secureCookieFor(protocol: string, hostname: string): boolean {
  return protocol === 'https' || !(LOOPBACK.has(hostname.toLowerCase()) || hostname.startsWith('127.'));
}
