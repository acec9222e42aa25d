// TRUST_PROXY: whose X-Forwarded-For the service believes for the client address — the address
// the per-address auth lockout and the rate limits count. Unset, a forged header changes nothing;
// set to the proxy's address, each forwarded client is counted on its own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { ConfigError, loadConfig, parseTrustProxy } from '../../src/core/config.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { baseFixture, PASSWORD } from '../helpers/fixtures.js';
import { basic } from '../helpers/suite.js';

const URL = '/leads/v2/dealer/d-1/lead/00000000-0000-4000-8000-000000000000';
const SIGNED_IN = 404;
const THROTTLE = { AUTH_MAX_FAILURES_PER_ADDRESS: '3', AUTH_MAX_FAILURES_PER_USERNAME: '1000' };

test('TRUST_PROXY parsing: false, true, hop counts, address and CIDR lists; anything else fails at start', () => {
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(parseTrustProxy(''), false);
  assert.equal(parseTrustProxy('false'), false);
  assert.equal(parseTrustProxy('0'), false);
  assert.equal(parseTrustProxy('true'), true);
  assert.equal(parseTrustProxy(' TRUE '), true);
  assert.equal(parseTrustProxy('2'), 2);
  assert.deepEqual(parseTrustProxy('127.0.0.1'), ['127.0.0.1']);
  assert.deepEqual(parseTrustProxy('127.0.0.1, 10.0.0.0/8,::1,fd00::/8,loopback'), [
    '127.0.0.1',
    '10.0.0.0/8',
    '::1',
    'fd00::/8',
    'loopback',
  ]);
  for (const bad of [
    'yes please',
    '10.0.0.0/33',
    '10.0.0.1/',
    '::1/129',
    '300.1.1.1',
    '127.0.0.1,,10.0.0.1',
    'example.com',
    '101',
    '1.2.3.4/8/9',
  ]) {
    assert.throws(
      () => loadConfig({ TRUST_PROXY: bad }),
      (err: unknown) => err instanceof ConfigError && /^TRUST_PROXY: /.test(err.message),
      bad,
    );
  }
});

for (const dialect of testDialects()) {
  describe(`TRUST_PROXY [${dialect}]`, () => {
    let tdb: TestDatabase;
    const apps: FastifyInstance[] = [];
    before(async () => {
      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, baseFixture);
    });
    after(async () => {
      for (const app of apps) await app.close();
      await tdb?.destroy();
    });

    async function appWith(trustProxy: string | undefined): Promise<FastifyInstance> {
      const config = loadConfig({
        DATABASE_URL: tdb.url,
        LOG_LEVEL: 'silent',
        WORKER_ENABLED: 'false',
        ...THROTTLE,
        ...(trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy }),
      });
      const app = await buildApp(config, { db: tdb.db, logger: false });
      app.get('/test/client-address', async (request) => ({ ip: request.ip, protocol: request.protocol }));
      apps.push(app);
      return app;
    }

    const get = (app: FastifyInstance, password: string, forwardedFor?: string, remoteAddress = '127.0.0.1') =>
      app.inject({
        method: 'GET',
        url: URL,
        remoteAddress,
        headers: { authorization: basic('writer', password), ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }) },
      });
    const addressOf = async (app: FastifyInstance, forwardedFor: string, remoteAddress = '127.0.0.1') =>
      (
        await app.inject({
          method: 'GET',
          url: '/test/client-address',
          remoteAddress,
          headers: { 'x-forwarded-for': forwardedFor, 'x-forwarded-proto': 'https' },
        })
      ).json() as { ip: string; protocol: string };

    test('unset: the socket address counts; a forged X-Forwarded-For cannot dodge the per-address lockout', async () => {
      const app = await appWith(undefined);
      assert.deepEqual(await addressOf(app, '203.0.113.9'), { ip: '127.0.0.1', protocol: 'http' });
      for (let i = 0; i < 3; i++) assert.equal((await get(app, `guess-${i}`, `198.51.100.${i}`)).statusCode, 401);
      // Blocked: a new forged client address does not help, nor does the right password.
      const blocked = await get(app, 'guess-x', '198.51.100.200');
      assert.equal(blocked.statusCode, 429, blocked.body);
      assert.ok(Number(blocked.headers['retry-after']) >= 1);
      assert.equal((await get(app, PASSWORD, '198.51.100.201')).statusCode, 429);
    });

    test('127.0.0.1: two forwarded clients are throttled separately; other peers cannot forge the header', async () => {
      const app = await appWith('127.0.0.1');
      assert.deepEqual(await addressOf(app, '203.0.113.9'), { ip: '203.0.113.9', protocol: 'https' });
      // A peer that is not the trusted proxy: its own address, whatever it claims.
      assert.equal((await addressOf(app, '203.0.113.9', '192.0.2.50')).ip, '192.0.2.50');
      for (let i = 0; i < 3; i++) assert.equal((await get(app, `guess-${i}`, '203.0.113.1')).statusCode, 401);
      assert.equal((await get(app, 'guess-x', '203.0.113.1')).statusCode, 429);
      // Another client behind the same proxy is not blocked.
      assert.equal((await get(app, 'guess-y', '203.0.113.2')).statusCode, 401);
      assert.equal((await get(app, PASSWORD, '203.0.113.2')).statusCode, SIGNED_IN);
    });

    test('true trusts any hop; a hop count trusts that many; a CIDR list trusts only its proxies', async () => {
      assert.equal((await addressOf(await appWith('true'), '203.0.113.7, 10.0.0.5', '192.0.2.1')).ip, '203.0.113.7');
      const twoHops = await appWith('2');
      assert.equal((await addressOf(twoHops, '203.0.113.7, 198.51.100.1, 10.0.0.5', '192.0.2.1')).ip, '198.51.100.1');
      const cidr = await appWith('10.0.0.0/8,127.0.0.1');
      assert.equal((await addressOf(cidr, '203.0.113.7, 10.1.2.3', '127.0.0.1')).ip, '203.0.113.7');
      assert.equal((await addressOf(cidr, '203.0.113.7, 192.0.2.99', '127.0.0.1')).ip, '192.0.2.99');
    });
  });
}
