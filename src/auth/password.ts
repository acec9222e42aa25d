// Passwords are stored only as scrypt hashes: "scrypt$N$r$p$salt$hash" (salt and hash base64).
// N=16384, r=8, p=1 costs ~40 ms and 16 MiB per verification on this class of machine; the
// credential cache in directory.ts keeps that off the hot path for repeat callers.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const HASH_PATTERN = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

function scrypt(password: string, salt: Buffer, n: number, r: number, p: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, length, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, N, R, P, KEY_LENGTH);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function isPasswordHash(value: string): boolean {
  const m = HASH_PATTERN.exec(value);
  if (!m) return false;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // N must be a power of two > 1. Bound memory (128·N·r ≤ 64 MiB) and work (N·r·p ≤ 16× our
  // default) so a hash in a provisioning file cannot stall the service at every login.
  const powerOfTwo = n > 1 && (n & (n - 1)) === 0;
  return powerOfTwo && r >= 1 && p >= 1 && 128 * n * r <= 64 * 1024 * 1024 && n * r * p <= 16 * N * R * P;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = HASH_PATTERN.exec(stored);
  if (!m || !isPasswordHash(stored)) return false;
  const expected = Buffer.from(m[5] as string, 'base64');
  const actual = await scrypt(password, Buffer.from(m[4] as string, 'base64'), Number(m[1]), Number(m[2]), Number(m[3]), expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash of a random password: verifying against it costs the same as a real one. */
export const DECOY_HASH_PROMISE: Promise<string> = hashPassword(randomBytes(16).toString('hex'));
