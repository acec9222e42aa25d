// Per-subscriber rate limits on the partner endpoints (docs/api.md, "Rate limits"): a limit of
// N/s with burst B admits exactly B requests at once, then 429 TOO_MANY_REQUESTS with Retry-After
// and the IETF RateLimit headers; other subscribers are unaffected; the limit comes from
// provisioning (file or admin API) and changes live. On PostgreSQL two apps on one database share
// the limit. The clock is injected: no test sleeps to cross a second.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { RateLimiter } from '../../src/auth/rate-limiter.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic } from '../helpers/suite.js';

const ADMIN_TOKEN = 'rate-limit-admin-token-0123456789abcdef';
const EVENTS_URL = '/service-pre-diag/third-party-events/vehicle-service-chat/v1';
const READ_URL = '/leads/v2/dealer/d-1/lead/00000000-0000-4000-8000-000000000000';
const SIGNED_IN = 404;

const grants = [
  { scope: 'lead.write', dealers: ['d-1'] },
  { scope: 'spd.events.vehicleservicechat.write', dealers: '*' },
];

function fixture(limits: Record<string, { requestsPerSecond: number; burst: number } | null>) {
  return {
    dealers: [{ uuid: 'd-1', name: 'Test Imports LLC' }],
    subscribers: Object.entries(limits).map(([username, rateLimit]) => ({
      username,
      password: PASSWORD,
      ...(rateLimit === null ? {} : { rateLimit }),
      grants,
    })),
    customers: [{ dealer: 'd-1', uuid: 'c-1', vehicles: [{ uuid: 'v-1', vin: '1HGCM82633A004352' }] }],
    integrations: Object.keys(limits).map((subscriber) => ({
      subscriber,
      eventType: 'vehicle-service-chat',
      dealerMap: { 'EXT-1': 'd-1' },
    })),
  };
}

const LIMITS = {
  limited: { requestsPerSecond: 2, burst: 3 },
  neighbour: { requestsPerSecond: 1, burst: 2 },
  free: null,
  'gate-user': { requestsPerSecond: 1, burst: 1 },
  changing: { requestsPerSecond: 1, burst: 1 },
};

/** The first answer that is not a 429, within 2 s of real time (a reconciliation is 250 ms). */
async function eventually(request: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
  const until = Date.now() + 2000;
  for (;;) {
    const res = await request();
    if (res.statusCode !== 429 || Date.now() > until) return res;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function assertHeaders(res: LightMyRequestResponse, limit: number, remaining: number): void {
  assert.equal(res.headers['ratelimit-limit'], String(limit), 'RateLimit-Limit');
  assert.equal(res.headers['ratelimit-remaining'], String(remaining), 'RateLimit-Remaining');
  assert.match(String(res.headers['ratelimit-reset']), /^\d+$/, 'RateLimit-Reset');
}

test('the bucket: burst at once, then one request per 1/rate seconds; Retry-After and Reset', () => {
  let now = 1_000_000;
  const limiter = new RateLimiter(() => now);
  const limit = { requestsPerSecond: 4, burst: 2 };
  assert.deepEqual(limiter.take('a', limit), { allowed: true, limit: 2, remaining: 1, resetSeconds: 1, retryAfterSeconds: 1 });
  assert.equal(limiter.take('a', limit).allowed, true);
  const refused = limiter.take('a', limit);
  assert.deepEqual(refused, { allowed: false, limit: 2, remaining: 0, resetSeconds: 1, retryAfterSeconds: 1 });
  now += 250;
  assert.equal(limiter.take('a', limit).allowed, true);
  assert.equal(limiter.take('a', limit).allowed, false);
  // A slow rate: Retry-After says when the next token comes.
  const slow = { requestsPerSecond: 0.1, burst: 1 };
  assert.equal(limiter.take('b', slow).allowed, true);
  const wait = limiter.take('b', slow);
  assert.equal(wait.allowed, false);
  assert.equal(wait.retryAfterSeconds, 10);
  assert.equal(wait.resetSeconds, 10);
  now += 9_999;
  assert.equal(limiter.take('b', slow).allowed, false);
  now += 1;
  assert.equal(limiter.take('b', slow).allowed, true);
});

for (const dialect of testDialects()) {
  describe(`rate limits [${dialect}]`, () => {
    let tdb: TestDatabase;
    let app: FastifyInstance;
    let now = Date.now();
    const clock = () => now;

    before(async () => {
      tdb = await createTestDatabase(dialect, { ADMIN_TOKEN });
      await applyProvisioning(tdb.db.kysely, fixture(LIMITS));
      app = await buildApp(tdb.config, { db: tdb.db, logger: false, clock });
    });
    after(async () => {
      await app?.close();
      await tdb?.destroy();
    });

    const read = (username: string) =>
      app.inject({ method: 'GET', url: READ_URL, headers: { authorization: basic(username, PASSWORD) }, remoteAddress: '10.7.0.1' });

    test('N/s with burst B: exactly B successes, then 429 with Retry-After and RateLimit headers; other subscribers unaffected', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await read('limited');
        assert.equal(res.statusCode, SIGNED_IN, res.body);
        assertHeaders(res, 3, 2 - i);
      }
      for (let i = 0; i < 3; i++) {
        const res = await read('limited');
        assert.equal(res.statusCode, 429, res.body);
        assert.equal(res.json().errorCode, 'TOO_MANY_REQUESTS');
        assert.match(res.json().message, /Rate limit of 2 requests per second \(burst 3\) exceeded/);
        assert.equal(res.headers['retry-after'], '1');
        assertHeaders(res, 3, 0);
        assert.equal(res.headers['ratelimit-reset'], '2');
      }
      // Its neighbour has its own bucket; a subscriber without a limit has none (and no headers).
      for (let i = 0; i < 2; i++) assert.equal((await read('neighbour')).statusCode, SIGNED_IN);
      assert.equal((await read('neighbour')).statusCode, 429);
      for (let i = 0; i < 20; i++) {
        const res = await read('free');
        assert.equal(res.statusCode, SIGNED_IN);
        assert.equal(res.headers['ratelimit-limit'], undefined);
      }
      // Failed authentications do not spend the partner's budget.
      const wrong = await app.inject({ method: 'GET', url: READ_URL, headers: { authorization: basic('neighbour', 'wrong-password') } });
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.headers['ratelimit-limit'], undefined);
    });

    test('every partner endpoint is limited: the gate, the status, the dry run and the leads', async () => {
      const auth = { authorization: basic('gate-user', PASSWORD), 'content-type': 'application/json' };
      const event = { dealer_uuid: 'EXT-1', vin: '1HGCM82633A004352', summary: 'brakes' };
      const first = await app.inject({ method: 'POST', url: EVENTS_URL, headers: auth, payload: event });
      assert.equal(first.statusCode, 200, first.body);
      assertHeaders(first, 1, 0);
      const calls = [
        { method: 'POST' as const, url: EVENTS_URL, payload: event },
        { method: 'GET' as const, url: `${EVENTS_URL}/${first.json().requestId}` },
        { method: 'POST' as const, url: `${EVENTS_URL}/dry-run`, payload: event },
        { method: 'POST' as const, url: '/leads/v2/dealer/d-1', payload: leadBody() },
        { method: 'GET' as const, url: READ_URL },
      ];
      for (const call of calls) {
        const res = await app.inject({ ...call, headers: auth });
        assert.equal(res.statusCode, 429, `${call.method} ${call.url}: ${res.body}`);
        assert.equal(res.headers['retry-after'], '1');
        assertHeaders(res, 1, 0);
      }
    });

    if (dialect === 'sqlite') {
      // On PostgreSQL buckets refill through reconciliation, on the database's clock (below).
      test('the bucket refills at the rate: after 1/N s one more request, then 429 again', async () => {
        now += 500;
        const res = await read('limited');
        assert.equal(res.statusCode, SIGNED_IN);
        assertHeaders(res, 3, 0);
        assert.equal((await read('limited')).statusCode, 429);
        now += 10_000;
        for (let i = 0; i < 3; i++) assert.equal((await read('limited')).statusCode, SIGNED_IN);
        assert.equal((await read('limited')).statusCode, 429);
      });
    }

    test('the limit comes from provisioning and changes live: raised, removed, set again through the admin API', async () => {
      assert.equal((await read('changing')).statusCode, SIGNED_IN);
      assert.equal((await read('changing')).statusCode, 429);
      // Raised by apply: the new burst applies at once (what was spent stays spent).
      await applyProvisioning(tdb.db.kysely, fixture({ ...LIMITS, changing: { requestsPerSecond: 1000, burst: 50 } }));
      await app.directory.refresh();
      now += 1000;
      // SQLite: refilled at once (the clock moved); PostgreSQL: at the next reconciliation.
      const raised = await eventually(() => read('changing'));
      assert.equal(raised.statusCode, SIGNED_IN);
      assert.equal(raised.headers['ratelimit-limit'], '50');
      // Removed: unlimited, no headers.
      await applyProvisioning(tdb.db.kysely, fixture({ ...LIMITS, changing: null }));
      await app.directory.refresh();
      for (let i = 0; i < 60; i++) assert.equal((await read('changing')).statusCode, SIGNED_IN);
      assert.equal((await read('changing')).headers['ratelimit-limit'], undefined);
      // Set through the admin API; shown by GET; kept by other admin changes.
      const admin = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
        app.inject({
          method,
          url: `/admin/v1${url}`,
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          ...(payload ? { payload } : {}),
        });
      const set = await admin('PUT', '/subscribers/changing/rate-limit', { rateLimit: { requestsPerSecond: 5, burst: 2 } });
      assert.equal(set.statusCode, 200, set.body);
      assert.deepEqual(set.json().rateLimit, { requestsPerSecond: 5, burst: 2 });
      assert.equal((await admin('POST', '/subscribers/changing/disable')).statusCode, 200);
      assert.equal((await admin('POST', '/subscribers/changing/enable')).statusCode, 200);
      assert.deepEqual((await admin('GET', '/subscribers/changing')).json().rateLimit, { requestsPerSecond: 5, burst: 2 });
      await app.directory.refresh();
      now += 1000;
      const limited = await eventually(() => read('changing'));
      assert.equal(limited.statusCode, SIGNED_IN);
      assert.equal(limited.headers['ratelimit-limit'], '2');
      assert.equal(
        (await admin('PUT', '/subscribers/changing/rate-limit', { rateLimit: { requestsPerSecond: 0, burst: 2 } })).statusCode,
        400,
      );
      assert.equal(
        (await admin('PUT', '/subscribers/changing/rate-limit', { rateLimit: { requestsPerSecond: 1, burst: 0 } })).statusCode,
        400,
      );
      const cleared = await admin('PUT', '/subscribers/changing/rate-limit', { rateLimit: null });
      assert.equal(cleared.statusCode, 200);
      assert.equal(cleared.json().rateLimit, null);
      // Audited as a change of the subscriber.
      const audit = await tdb.db.kysely.selectFrom('audit_log').selectAll().where('entity_key', '=', 'changing').orderBy('id').execute();
      assert.ok(audit.some((e) => e.after?.includes('"rate_limit":{"requestsPerSecond":5,"burst":2}')));
    });

    test('a provisioning file with a bad rateLimit is rejected, naming the field', async () => {
      await assert.rejects(
        applyProvisioning(tdb.db.kysely, fixture({ limited: { requestsPerSecond: -1, burst: 2 } })),
        /subscribers\[0\]\.rateLimit\.requestsPerSecond/,
      );
      await assert.rejects(
        applyProvisioning(tdb.db.kysely, { subscribers: [{ username: 'x', password: PASSWORD, grants: [], rateLimit: { burst: 2 } }] }),
        /rateLimit\.requestsPerSecond: is required/,
      );
    });
  });
}

if (testDialects().includes('postgres')) {
  describe('rate limits across nodes [postgres]', () => {
    let tdb: TestDatabase;
    const apps: FastifyInstance[] = [];
    before(async () => {
      tdb = await createTestDatabase('postgres');
      await applyProvisioning(tdb.db.kysely, fixture({ shared: { requestsPerSecond: 20, burst: 5 } }));
      apps.push(await buildApp(tdb.config, { db: tdb.db, logger: false }));
      apps.push(await buildApp(tdb.config, { db: tdb.connectAgain(), logger: false }));
    });
    after(async () => {
      for (const app of apps) await app.close();
      await tdb?.destroy();
    });

    test('two apps on one database: the combined admitted rate stays near the limit, not twice it', async (t) => {
      const read = (app: FastifyInstance) =>
        app.inject({ method: 'GET', url: READ_URL, headers: { authorization: basic('shared', PASSWORD) } });
      // Warm up (sign in: one scrypt per app) before the clock starts.
      for (const app of apps) assert.equal((await read(app)).statusCode, SIGNED_IN);
      const seconds = 3;
      const started = Date.now();
      const until = started + seconds * 1000;
      const admitted = [0, 0];
      const refused = [0, 0];
      await Promise.all(
        apps.map(async (app, i) => {
          while (Date.now() < until) {
            const res = await read(app);
            if (res.statusCode === SIGNED_IN) admitted[i] = (admitted[i] ?? 0) + 1;
            else if (res.statusCode === 429) refused[i] = (refused[i] ?? 0) + 1;
            else assert.fail(`unexpected ${res.statusCode} ${res.body}`);
            // Keep hammering without starving the reconciliation timers.
            await new Promise((resolve) => setImmediate(resolve));
          }
        }),
      );
      const elapsed = (Date.now() - started) / 1000;
      const total = (admitted[0] ?? 0) + (admitted[1] ?? 0);
      const atRate = 20 * elapsed;
      const detail = `admitted ${admitted.join(' + ')} = ${total} in ${elapsed.toFixed(2)} s, refused ${refused.join(' + ')}; 20/s is ${atRate.toFixed(0)}`;
      t.diagnostic(detail);
      // Each node alone would admit 20/s (both: 40/s). The bound in docs/architecture.md ("Rate
      // limits"): rate × W + nodes × burst + nodes × rate × 0.5 s = 60 + 10 + 20 = 90.
      assert.ok(total <= atRate + 2 * 5 + 2 * 20 * 0.5, detail);
      assert.ok(total >= atRate * 0.8, detail);
      assert.ok((refused[0] ?? 0) > 0 && (refused[1] ?? 0) > 0, detail);
      // Both nodes are admitted over the run: neither is shut out. How the budget splits between
      // them depends on which reconciles first under load (57 + 5 seen on a busy CI machine);
      // the contract is the combined bound above.
      assert.ok((admitted[0] ?? 0) > 0 && (admitted[1] ?? 0) > 0, detail);
    });
  });
}
