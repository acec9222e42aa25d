// scrypt password hashes: "scrypt$N$r$p$salt$hash", salt and hash in base64.
import assert from 'node:assert/strict';
import { randomBytes, scryptSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { hashPassword, isPasswordHash, verifyPassword } from '../../src/auth/password.js';

const SALT = Buffer.alloc(16, 7).toString('base64');
const KEY = Buffer.alloc(32, 9).toString('base64');

/** A hash in the stored format with the given cost parameters (not necessarily of any password). */
const shaped = (n: number | string, r: number | string, p: number | string, salt = SALT, key = KEY) =>
  `scrypt$${n}$${r}$${p}$${salt}$${key}`;

describe('password hashing', () => {
  test('hashPassword produces the documented format with N=16384, r=8, p=1', async () => {
    const hash = await hashPassword('correct-horse-1');
    const m = /^scrypt\$16384\$8\$1\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
    assert.ok(m, hash);
    assert.equal(Buffer.from(m[1] as string, 'base64').length, 16, '16-byte salt');
    assert.equal(Buffer.from(m[2] as string, 'base64').length, 32, '32-byte key');
    assert.ok(!hash.includes('correct-horse-1'));
  });

  test('a hash verifies its own password', async () => {
    const hash = await hashPassword('correct-horse-1');
    assert.equal(await verifyPassword('correct-horse-1', hash), true);
  });

  test('a wrong password does not verify', async () => {
    const hash = await hashPassword('correct-horse-1');
    assert.equal(await verifyPassword('correct-horse-2', hash), false);
    assert.equal(await verifyPassword('Correct-horse-1', hash), false);
    assert.equal(await verifyPassword('correct-horse-1 ', hash), false);
    assert.equal(await verifyPassword('', hash), false);
  });

  test('unicode, colons and long passwords round-trip', async () => {
    for (const password of ['pässwört-✓-密码', 'a:b:c:d-pass', 'x'.repeat(1024)]) {
      const hash = await hashPassword(password);
      assert.equal(await verifyPassword(password, hash), true, password.slice(0, 20));
      assert.equal(await verifyPassword(`${password}!`, hash), false, password.slice(0, 20));
    }
  });

  test('hashes of the same password differ (random salt), and each verifies', async () => {
    const [a, b] = await Promise.all([hashPassword('same-password'), hashPassword('same-password')]);
    assert.notEqual(a, b);
    assert.notEqual(a.split('$')[4], b.split('$')[4], 'salts differ');
    assert.equal(await verifyPassword('same-password', a), true);
    assert.equal(await verifyPassword('same-password', b), true);
  });

  test('verification uses the cost parameters stored in the hash', async () => {
    // A hash made elsewhere with cheaper parameters (e.g. by an older version) still verifies.
    const salt = randomBytes(16);
    const key = scryptSync('legacy-pass-1', salt, 32, { N: 1024, r: 4, p: 2 });
    const hash = shaped(1024, 4, 2, salt.toString('base64'), key.toString('base64'));
    assert.equal(isPasswordHash(hash), true);
    assert.equal(await verifyPassword('legacy-pass-1', hash), true);
    assert.equal(await verifyPassword('legacy-pass-2', hash), false);
  });

  test('a malformed stored hash never verifies (and does not throw)', async () => {
    const good = await hashPassword('correct-horse-1');
    const [, n, r, p, salt, key] = good.split('$') as [string, string, string, string, string, string];
    const malformed = [
      '',
      'correct-horse-1',
      'scrypt',
      `scrypt$${n}$${r}$${p}$${salt}`,
      `scrypt$${n}$${r}$${p}$${salt}$${key}$extra`,
      `bcrypt$${n}$${r}$${p}$${salt}$${key}`,
      `SCRYPT$${n}$${r}$${p}$${salt}$${key}`,
      `scrypt$${n}$${r}$${p}$$${key}`,
      `scrypt$${n}$${r}$${p}$${salt}$`,
      `scrypt$${n}$${r}$${p}$${salt}$not base64!`,
      `scrypt$abc$${r}$${p}$${salt}$${key}`,
      `scrypt$-16384$${r}$${p}$${salt}$${key}`,
      `scrypt$16383$${r}$${p}$${salt}$${key}`,
      `scrypt$${2 ** 30}$${r}$${p}$${salt}$${key}`,
      `scrypt$${n}$0$${p}$${salt}$${key}`,
      `scrypt$${n}$${r}$0$${salt}$${key}`,
      ` ${good}`,
      `${good}\n`,
    ];
    for (const stored of malformed) {
      assert.equal(await verifyPassword('correct-horse-1', stored), false, JSON.stringify(stored));
    }
  });

  test('a well-formed hash of another password does not verify', async () => {
    assert.equal(await verifyPassword('correct-horse-1', shaped(16384, 8, 1)), false);
  });
});

describe('isPasswordHash', () => {
  test('accepts what hashPassword produces', async () => {
    assert.equal(isPasswordHash(await hashPassword('correct-horse-1')), true);
  });

  // The rules (src/auth/password.ts): N a power of two above 1, r ≥ 1, p ≥ 1, memory 128·N·r at
  // most 64 MiB, and work N·r·p at most 16 times that of our own default (16384·8·1), so that a
  // hash in a provisioning file cannot stall the service at every login.
  test('accepts N a power of two, r and p at least 1, within the memory and work bounds', () => {
    for (const n of [2, 4, 1024, 16384, 2 ** 16]) assert.equal(isPasswordHash(shaped(n, 8, 1)), true, `N=${n}, r=8`);
    assert.equal(isPasswordHash(shaped(2 ** 19, 1, 1)), true, 'N=2^19, r=1: 64 MiB');
    for (const r of [1, 32]) assert.equal(isPasswordHash(shaped(16384, r, 1)), true, `N=2^14, r=${r}`);
    for (const p of [1, 16]) assert.equal(isPasswordHash(shaped(16384, 8, p)), true, `N=2^14, r=8, p=${p}`);
    assert.equal(isPasswordHash(shaped(2 ** 19, 1, 4)), true, 'N=2^19, r=1, p=4: 16× the default work');
  });

  test('rejects N that is not a power of two greater than one', () => {
    for (const n of [0, 1, 3, 1000, 16383, 16385]) {
      assert.equal(isPasswordHash(shaped(n, 8, 1)), false, `N=${n}`);
    }
  });

  test('rejects r or p below 1', () => {
    assert.equal(isPasswordHash(shaped(16384, 0, 1)), false, 'r=0');
    assert.equal(isPasswordHash(shaped(16384, 8, 0)), false, 'p=0');
  });

  test('rejects parameters needing more than 64 MiB (128·N·r)', () => {
    for (const [n, r] of [
      [2 ** 17, 8],
      [2 ** 16, 9],
      [2 ** 20, 1],
      [2 ** 21, 8],
      [2 ** 30, 8],
      [16384, 33],
      [16384, 1000],
    ] as const) {
      assert.equal(isPasswordHash(shaped(n, r, 1)), false, `N=${n}, r=${r}`);
    }
  });

  test('rejects parameters costing more than 16 times the default work (N·r·p)', () => {
    for (const [n, r, p] of [
      [16384, 8, 17],
      [16384, 8, 1000],
      [2 ** 19, 1, 5],
      [16384, 32, 5],
    ] as const) {
      assert.equal(isPasswordHash(shaped(n, r, p)), false, `N=${n}, r=${r}, p=${p}`);
    }
  });

  test('a hash with stalling parameters (N=2^20, r=32, p=16: 4 GiB, minutes of CPU) is refused without being computed', async () => {
    const stalling = shaped(2 ** 20, 32, 16);
    assert.equal(isPasswordHash(stalling), false);
    assert.equal(await verifyPassword('anything-at-all', stalling), false);
  });

  test('rejects anything not shaped "scrypt$N$r$p$salt$hash"', () => {
    const rejected = [
      '',
      'scrypt',
      'scrypt$16384$8$1',
      `scrypt$16384$8$1$${SALT}`,
      `scrypt$16384$8$${SALT}$${KEY}`,
      `scrypt$16384$8$1$${SALT}$${KEY}$more`,
      `argon2id$16384$8$1$${SALT}$${KEY}`,
      `scrypt$16384.0$8$1$${SALT}$${KEY}`,
      `scrypt$-2$8$1$${SALT}$${KEY}`,
      `scrypt$0x4000$8$1$${SALT}$${KEY}`,
      `scrypt$16384$8$1$salt with spaces$${KEY}`,
      `scrypt$16384$8$1$${SALT}$key_with-url-safe`,
      `scrypt$16384$8$1$$${KEY}`,
      `scrypt$16384$8$1$${SALT}$`,
      ` scrypt$16384$8$1$${SALT}$${KEY}`,
      `scrypt$16384$8$1$${SALT}$${KEY} `,
      'plain-text-password',
    ];
    for (const value of rejected) assert.equal(isPasswordHash(value), false, JSON.stringify(value));
  });
});
