// The operator console without a browser, on both databases: signing in and out, the session
// cookie's flags and signature, what the cookie opens (and what it does not: a state change
// without X-Requested-With), the security headers and content types of the console's files,
// that neither the token nor the cookie reaches the log, and GET /admin/v1/stats.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { readStats } from '../../src/admin/stats.routes.js';
import { buildApp } from '../../src/app.js';
import { SESSION_TTL_MS, sessionKey, signSession } from '../../src/auth/session-cookie.js';
import { CONSOLE_CSP } from '../../src/console/security-headers.js';
import { staticRoot } from '../../src/console/static-files.js';
import { acceptEvent, chatBody, drain, eventsFixture, integrations, makeWorker } from '../helpers/events.js';
import { describeEachDialect, type SuiteContext } from '../helpers/suite.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
const CONSOLE = { 'x-requested-with': 'dealer-gateway-console' };

function signIn(app: FastifyInstance, token = TOKEN, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/console/session', headers, payload: { token } });
}

function setCookie(res: LightMyRequestResponse): string {
  const header = res.headers['set-cookie'];
  assert.equal(typeof header, 'string', 'one Set-Cookie header');
  return header as string;
}

/** The `dgw_session=…` pair of a Set-Cookie header, as a Cookie header sends it back. */
const cookiePair = (header: string) => header.split(';')[0] as string;

async function session(app: FastifyInstance): Promise<string> {
  const res = await signIn(app);
  assert.equal(res.statusCode, 200, res.body);
  return cookiePair(setCookie(res));
}

const keyOf = (token: string) => sessionKey(createHash('sha256').update(token).digest());

function assertSecurityHeaders(res: LightMyRequestResponse, what: string) {
  assert.equal(res.headers['content-security-policy'], CONSOLE_CSP, what);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
  assert.equal(res.headers['referrer-policy'], 'no-referrer', what);
}

describeEachDialect('operator console', { fixture: eventsFixture, env: { ADMIN_TOKEN: TOKEN } }, (ctx) => {
  test('signing in sets an HttpOnly, SameSite=Strict session cookie for 8 hours', async () => {
    const { app } = ctx();
    const before = Date.now();
    const res = await signIn(app);
    assert.equal(res.statusCode, 200, res.body);
    const header = setCookie(res);
    const attributes = header.split(';').map((a) => a.trim());
    assert.match(attributes[0] as string, /^dgw_session=v1\.\d+\.[\w-]+\.[\w-]{43}$/);
    for (const flag of ['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=28800'])
      assert.ok(attributes.includes(flag), `${flag} in ${header}`);
    // Plain HTTP on localhost (inject's Host): not Secure, or the browser would drop it.
    assert.ok(!attributes.includes('Secure'), header);
    const expiresAt = Number((attributes[0] as string).split('.')[1]);
    assert.ok(expiresAt >= before + SESSION_TTL_MS && expiresAt <= Date.now() + SESSION_TTL_MS, 'the expiry is in the value');
    assert.equal(Date.parse(res.json().expiresAt), expiresAt);
    assertSecurityHeaders(res, 'sign-in');

    // Anywhere but a loopback name, the cookie is HTTPS-only.
    const remote = await signIn(app, TOKEN, { host: 'console.example.com' });
    assert.ok(setCookie(remote).split('; ').includes('Secure'), setCookie(remote));
    const local = await signIn(app, TOKEN, { host: '127.0.0.1:8080' });
    assert.ok(!setCookie(local).includes('Secure'));
  });

  test('a wrong token is 401, sets no cookie and never asks the browser for Basic credentials', async () => {
    const { app } = ctx();
    const res = await signIn(app, `${TOKEN}x`);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, 'WRONG_CREDENTIAL');
    assert.equal(res.headers['set-cookie'], undefined);
    assert.match(String(res.headers['www-authenticate']), /^Bearer /);
    assertSecurityHeaders(res, 'refused sign-in');

    const empty = await signIn(app, '');
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json().error.code, 'VALIDATION_FAILED');
  });

  test('the cookie opens the admin GET routes and says whose session it is', async () => {
    const { app } = ctx();
    const cookie = await session(app);
    const events = await app.inject({ method: 'GET', url: '/admin/v1/events?limit=1', headers: { cookie } });
    assert.equal(events.statusCode, 200, events.body);
    const who = await app.inject({ method: 'GET', url: '/console/session', headers: { cookie } });
    assert.equal(who.statusCode, 200, who.body);
    assert.equal(who.json().via, 'session');
    assert.ok(Date.parse(who.json().expiresAt) > Date.now());
    // Among other cookies, in any position.
    const mixed = await app.inject({ method: 'GET', url: '/admin/v1/events?limit=1', headers: { cookie: `theme=dark; ${cookie}; x=1` } });
    assert.equal(mixed.statusCode, 200);
    // The Bearer header, when present, is the only credential looked at.
    const wrongBearer = await app.inject({
      method: 'GET',
      url: '/admin/v1/events?limit=1',
      headers: { cookie, authorization: `Bearer ${TOKEN}x` },
    });
    assert.equal(wrongBearer.statusCode, 401);
    // The cookie is the admin's, not a partner's.
    const partner = await app.inject({ method: 'GET', url: '/leads/v2/dealer/d-1/lead/nope', headers: { cookie } });
    assert.equal(partner.statusCode, 401);
  });

  test('a state change with the cookie needs X-Requested-With (401 NULL_CREDENTIALS without it)', async () => {
    const { app } = ctx();
    const cookie = await session(app);
    const payload = { filter: { subscriber: 'nobody-sends-this' } };
    const bare = await app.inject({ method: 'POST', url: '/admin/v1/replays', headers: { cookie }, payload });
    assert.equal(bare.statusCode, 401, bare.body);
    assert.equal(bare.json().error.code, 'NULL_CREDENTIALS');
    assert.match(bare.json().error.message, /X-Requested-With: dealer-gateway-console/);
    const wrong = await app.inject({
      method: 'POST',
      url: '/admin/v1/replays',
      headers: { cookie, 'x-requested-with': 'XMLHttpRequest' },
      payload,
    });
    assert.equal(wrong.statusCode, 401);
    const viaConsole = await app.inject({ method: 'POST', url: '/admin/v1/replays', headers: { cookie, ...CONSOLE }, payload });
    assert.equal(viaConsole.statusCode, 202, viaConsole.body);
    // Fetch Metadata: a browser that says the request came from elsewhere is refused.
    for (const site of ['cross-site', 'same-site', 'none']) {
      const res = await app.inject({
        method: 'POST',
        url: '/admin/v1/replays',
        headers: { cookie, ...CONSOLE, 'sec-fetch-site': site },
        payload,
      });
      assert.equal(res.statusCode, 401, site);
      assert.equal(res.json().error.code, 'NULL_CREDENTIALS', site);
    }
    const sameOrigin = await app.inject({
      method: 'POST',
      url: '/admin/v1/replays',
      headers: { cookie, ...CONSOLE, 'sec-fetch-site': 'same-origin' },
      payload,
    });
    assert.equal(sameOrigin.statusCode, 202, sameOrigin.body);
    const crossRead = await app.inject({
      method: 'GET',
      url: '/admin/v1/events?limit=1',
      headers: { cookie, 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(crossRead.statusCode, 401, 'a cross-site read with the session is refused too');
    // The Bearer token needs no such header: it is never sent by a browser on its own.
    const bearer = await app.inject({ method: 'POST', url: '/admin/v1/replays', headers: { authorization: `Bearer ${TOKEN}` }, payload });
    assert.equal(bearer.statusCode, 202, bearer.body);
  });

  test('tampered, expired, over-long and foreign cookies are refused', async () => {
    const { app } = ctx();
    const cookie = await session(app);
    const value = cookie.slice('dgw_session='.length);
    const [version, expiresAt, nonce, mac] = value.split('.') as [string, string, string, string];
    const flipped = `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    const key = keyOf(TOKEN);
    const candidates = {
      'tampered MAC': `${version}.${expiresAt}.${nonce}.${flipped}`,
      'extended expiry': `${version}.${Number(expiresAt) + 3_600_000}.${nonce}.${mac}`,
      expired: signSession(key, Date.now() - 1000),
      'longer than a session lasts': signSession(key, Date.now() + SESSION_TTL_MS + 3_600_000),
      'signed for another admin token': signSession(keyOf('another-admin-token-0123456789'), Date.now() + 60_000),
      garbage: 'not-a-session',
      empty: '',
    };
    for (const [what, forged] of Object.entries(candidates)) {
      const res = await app.inject({ method: 'GET', url: '/admin/v1/events?limit=1', headers: { cookie: `dgw_session=${forged}` } });
      assert.equal(res.statusCode, 401, what);
      assert.equal(res.json().error.code, 'WRONG_CREDENTIAL', what);
    }
    // A genuine one signed with the same derived key works (any node holding the credential).
    const genuine = await app.inject({
      method: 'GET',
      url: '/admin/v1/events?limit=1',
      headers: { cookie: `dgw_session=${signSession(key, Date.now() + 60_000)}` },
    });
    assert.equal(genuine.statusCode, 200);
  });

  test('signing out clears the cookie', async () => {
    const { app } = ctx();
    const cookie = await session(app);
    const res = await app.inject({ method: 'DELETE', url: '/console/session', headers: { cookie, ...CONSOLE } });
    assert.equal(res.statusCode, 204);
    const header = setCookie(res);
    assert.match(header, /^dgw_session=;/);
    assert.ok(header.includes('Max-Age=0') && header.includes('HttpOnly') && header.includes('SameSite=Strict'), header);
    assertSecurityHeaders(res, 'sign-out');
    // Without any cookie the console's session check says so, and is not a counted failure:
    // far more of them than the per-address limit (30) still leave the token usable.
    for (let i = 0; i < 40; i++) {
      const signedOut = await app.inject({ method: 'GET', url: '/console/session' });
      assert.equal(signedOut.statusCode, 200);
      assert.deepEqual(signedOut.json(), { signedIn: false });
    }
    assert.equal((await signIn(app)).statusCode, 200);
  });

  test('the session check answers the signed-out state with 200 {"signedIn": false}, not an error', async () => {
    const { app } = ctx();
    const probe = (headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: '/console/session', headers });
    // No cookie, a stale or forged one: signed out, which a browser must not log as a failure.
    const stale = `dgw_session=${signSession(keyOf(TOKEN), Date.now() - 1000)}`;
    const cases: Record<string, Record<string, string>> = {
      'no cookie': {},
      'another cookie only': { cookie: 'theme=dark' },
      'an expired session': { cookie: stale },
      'a forged session': { cookie: 'dgw_session=not-a-session' },
      'a session from another site': { cookie: await session(app), 'sec-fetch-site': 'cross-site' },
    };
    for (const [what, headers] of Object.entries(cases)) {
      const res = await probe(headers);
      assert.equal(res.statusCode, 200, `${what}: ${res.body}`);
      assert.deepEqual(res.json(), { signedIn: false }, what);
      assert.equal(res.headers['www-authenticate'], undefined, what);
      assertSecurityHeaders(res, what);
    }
    const signedIn = await probe({ cookie: await session(app) });
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    assert.equal(signedIn.json().signedIn, true);
    assert.equal(signedIn.json().via, 'session');
    assert.ok(Date.parse(signedIn.json().expiresAt) > Date.now());
    const bearer = await probe({ authorization: `Bearer ${TOKEN}` });
    assert.deepEqual(bearer.json(), { signedIn: true, via: 'token', expiresAt: null });

    // A presented Bearer token is a credential: a wrong one is still the admin API's 401.
    const wrong = await probe({ authorization: `Bearer ${TOKEN}x` });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error.code, 'WRONG_CREDENTIAL');
    // And the admin API's own answers are unchanged: 401 without a credential or with a stale session.
    for (const headers of [{}, { cookie: stale }]) {
      const res = await app.inject({ method: 'GET', url: '/admin/v1/events?limit=1', headers });
      assert.equal(res.statusCode, 401);
      assert.match(String(res.headers['www-authenticate']), /^Bearer /);
    }
  });

  test('console pages and files: security headers, content types, ETags, 404s', async () => {
    const { app } = ctx();
    const files: [string, RegExp][] = [
      ['/console', /^text\/html; charset=utf-8$/],
      ['/console/', /^text\/html; charset=utf-8$/],
      ['/console/assets/console.css', /^text\/css; charset=utf-8$/],
      ['/console/assets/js/main.js', /^text\/javascript; charset=utf-8$/],
      ['/console/assets/js/pages/events.js', /^text\/javascript; charset=utf-8$/],
      ['/console/assets/favicon.svg', /^image\/svg\+xml$/],
    ];
    for (const [url, type] of files) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), type, url);
      assertSecurityHeaders(res, url);
      const etag = String(res.headers.etag);
      const again = await app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
      assert.equal(again.statusCode, 304, url);
    }
    for (const url of [
      '/console/assets/nope.js',
      '/console/assets/..%2Fconsole.routes.ts',
      '/console/assets/index.html',
      '/console/nowhere',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assertSecurityHeaders(res, url);
    }
    // Files are served from a table read at start: no path reaches the file system.
    for (const url of [
      '/console/assets/../../package.json',
      '/console/assets/%2e%2e/%2e%2e/app.ts',
      '/console/assets/js/../../../app.ts',
    ]) {
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url);
    }
  });

  test('neither the token nor the session cookie is ever logged', async () => {
    const { tdb } = ctx();
    let log = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        log += String(chunk);
        done();
      },
    });
    const app = await buildApp(tdb.config, { db: tdb.db, loggerInstance: pino({ level: 'trace' }, stream) });
    try {
      const cookie = await session(app);
      await app.inject({ method: 'GET', url: '/admin/v1/events?limit=1', headers: { cookie } });
      await app.inject({ method: 'POST', url: '/admin/v1/replays', headers: { cookie }, payload: { filter: {} } });
      await app.inject({ method: 'GET', url: '/admin/v1/events?limit=1', headers: { authorization: `Bearer ${TOKEN}` } });
      await signIn(app, `${TOKEN}-wrong`);
      assert.match(log, /request completed/, 'the access lines are there');
      assert.ok(!log.includes(TOKEN), 'the admin token is not in the log');
      assert.ok(!log.includes(cookie.slice('dgw_session='.length)), 'the cookie value is not in the log');
    } finally {
      await app.close();
    }
  });

  test('sign-in failures are throttled per address like the Bearer header', async () => {
    const { tdb } = ctx();
    // An app of its own: the throttle must not lock out the other tests.
    const app = await buildApp(tdb.config, { db: tdb.db, logger: false });
    try {
      const limit = tdb.config.authThrottle.maxFailuresPerAddress;
      for (let i = 0; i < limit; i++) assert.equal((await signIn(app, `wrong-${i}`)).statusCode, 401);
      const blocked = await signIn(app);
      assert.equal(blocked.statusCode, 429);
      assert.equal(blocked.json().error.code, 'TOO_MANY_REQUESTS');
    } finally {
      await app.close();
    }
  });

  test('GET /admin/v1/stats: 24 hours per status, backlog, top rejection codes, leads', async () => {
    const c: SuiteContext = ctx();
    const before = (await c.app.inject({ method: 'GET', url: '/admin/v1/stats', headers: { authorization: `Bearer ${TOKEN}` } })).json();
    await acceptEvent(c.app, chatBody({ chat_code: 'STATS-OK' }));
    await acceptEvent(c.app, chatBody({ chat_code: 'STATS-BAD', dealer_uuid: 'EXT-404' }));
    await acceptEvent(c.app, chatBody({ chat_code: 'STATS-BAD-2', dealer_uuid: 'EXT-405' }));
    await drain(makeWorker(c.tdb.db, c.app.directory, c.tdb.config.worker));
    await acceptEvent(c.app, chatBody({ chat_code: 'STATS-WAITING' }));

    const res = await c.app.inject({ method: 'GET', url: '/admin/v1/stats', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200, res.body);
    const stats = res.json();
    assert.equal(stats.hours.length, 24);
    const last = stats.hours[23];
    assert.ok(Date.parse(last.start) <= Date.now() && Date.now() - Date.parse(last.start) < 3_600_000, 'the last hour is the current one');
    assert.equal(Date.parse(stats.since), Date.parse(stats.hours[0].start));
    const grew = (path: (s: typeof stats) => number) => path(stats) - path(before);
    assert.equal(
      grew((s) => s.totals.received),
      4,
    );
    assert.equal(
      grew((s) => s.totals.statuses.PROCESSED),
      1,
    );
    assert.equal(
      grew((s) => s.totals.statuses.REJECTED),
      2,
    );
    assert.equal(
      grew((s) => s.hours[23].received),
      4,
    );
    const sum = stats.hours.reduce((n: number, h: { received: number }) => n + h.received, 0);
    assert.equal(sum, stats.totals.received);
    assert.ok(stats.backlog.events >= 1);
    assert.ok(stats.backlog.oldestAgeSeconds >= 0 && stats.backlog.oldestReceivedAt !== null);
    const top = stats.topRejections.find((r: { subscriber: string; errorCode: string }) => r.errorCode === 'DEALER_NOT_MAPPED');
    assert.equal(top.subscriber, 'multi-partner');
    assert.ok(top.count >= 2);

    // Through the console's cookie too; not without credentials.
    const cookie = await session(c.app);
    assert.equal((await c.app.inject({ method: 'GET', url: '/admin/v1/stats', headers: { cookie } })).statusCode, 200);
    assert.equal((await c.app.inject({ method: 'GET', url: '/admin/v1/stats' })).statusCode, 401);
  });

  test('GET /admin/v1/stats counts the rejections that happened in the window, even of events replayed since', async () => {
    const c: SuiteContext = ctx();
    const stats = async () => {
      const res = await c.app.inject({ method: 'GET', url: '/admin/v1/stats', headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };
    const notMapped = (s: { topRejections: { subscriber: string; errorCode: string; count: number }[] }) =>
      s.topRejections.find((r) => r.subscriber === 'multi-partner' && r.errorCode === 'DEALER_NOT_MAPPED')?.count ?? 0;
    const worker = () => drain(makeWorker(c.tdb.db, c.app.directory, c.tdb.config.worker));
    const before = await stats();

    const id = await acceptEvent(c.app, chatBody({ chat_code: 'STATS-FIXED', dealer_uuid: 'EXT-406' }));
    await worker();
    const rejected = await stats();
    assert.equal(notMapped(rejected) - notMapped(before), 1);

    // The operator maps the dealer and replays the event: it is PROCESSED now, but the rejection
    // happened in the window and is still counted.
    await c.provision({ integrations: [{ ...integrations.multi, dealerMap: { ...integrations.multi.dealerMap, 'EXT-406': 'd-1' } }] });
    const replay = await c.app.inject({
      method: 'POST',
      url: `/admin/v1/events/${id}/replay`,
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: {},
    });
    assert.equal(replay.statusCode, 200, replay.body);
    await worker();
    const status = await c.tdb.db.kysely.selectFrom('events').select('status').where('request_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(status.status, 'PROCESSED');
    const after = await stats();
    assert.equal(notMapped(after) - notMapped(before), 1, 'the rejection is still counted');
    // The total of rejections in the window counts it too, before and after the replay.
    assert.equal(rejected.totals.rejections - before.totals.rejections, 1);
    assert.equal(after.totals.rejections - before.totals.rejections, 1);

    // A rejection older than the window is not counted, whenever its event arrived.
    await c.tdb.db.kysely
      .insertInto('event_attempts')
      .values({
        request_id: id,
        attempt: 0,
        worker_id: 'w-old',
        at: Date.parse(after.since) - 1,
        outcome: 'REJECTED',
        cause: 'DEALER_NOT_MAPPED',
      })
      .execute();
    const older = await stats();
    assert.equal(older.totals.rejections, after.totals.rejections);
    assert.equal(notMapped(older), notMapped(after));
  });

  test('the window of rejections starts at `since` exactly, in whatever order the timeline was written', async () => {
    const c: SuiteContext = ctx();
    const db = c.tdb.db.kysely;
    const HOUR = 3_600_000;
    const id = await acceptEvent(c.app, chatBody({ chat_code: 'STATS-WINDOW' }));
    // A day to come (after every other entry): its window holds only the entries written here.
    const now = (Math.floor(Date.now() / HOUR) + 240) * HOUR + 7 * 60_000;
    const since = (Math.floor(now / HOUR) - 23) * HOUR;
    const entry = (at: number, outcome = 'REJECTED') => ({
      request_id: id,
      attempt: 1,
      worker_id: 'w-window',
      at,
      outcome,
      cause: outcome === 'REJECTED' ? 'SCHEMA_VIOLATION, INVALID_FIELD' : 'database unavailable',
    });
    // Newest first, so ids run against `at` (as when a node whose clock is ahead writes first):
    // nothing may depend on that order. Rejections at `since` and after count; a millisecond
    // before does not, nor do the other outcomes at the same instants.
    const counted = [now, since + 3 * HOUR, since + 1, since];
    await db
      .insertInto('event_attempts')
      .values([
        entry(now),
        entry(now, 'RETRY'),
        entry(since + 3 * HOUR),
        entry(since + 1),
        entry(since),
        entry(since, 'PROCESSED'),
        entry(since, 'FAILED'),
        entry(since, 'REPLAYED'),
        entry(since - 1),
        entry(since - 1),
        entry(since - 30 * 60_000),
        entry(since - 2 * HOUR),
      ])
      .execute();

    const count = (stats: Awaited<ReturnType<typeof readStats>>, code: string) =>
      stats.topRejections.find((r) => r.subscriber === 'multi-partner' && r.errorCode === code)?.count ?? 0;
    const stats = await readStats(db, now);
    assert.equal(Date.parse(stats.since), since);
    assert.equal(stats.totals.rejections, counted.length, 'the entries at since and after, none before');
    assert.equal(count(stats, 'SCHEMA_VIOLATION'), counted.length);
    assert.equal(count(stats, 'INVALID_FIELD'), counted.length);
    assert.equal(count(stats, 'database unavailable'), 0);

    // An hour on, the window starts an hour later: the entries at since and since + 1 ms left it.
    const later = await readStats(db, since + 24 * HOUR);
    assert.equal(Date.parse(later.since), since + HOUR);
    assert.equal(later.totals.rejections, 2);
    assert.equal(count(later, 'SCHEMA_VIOLATION'), 2);
  });
});

test('the console has no inline script or style, no HTML from strings and no eval', () => {
  const root = staticRoot();
  const html = readFileSync(join(root, 'index.html'), 'utf8');
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\bsrc="\/console\/assets\//, tag);
  assert.doesNotMatch(html, /<script\b[^>]*>[^<\s]/, 'no inline script body');
  assert.doesNotMatch(html, /\sstyle=|<style\b|\son[a-z]+=/i, 'no inline style or event handler attribute');
  const scripts = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? scripts(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
    );
  const files = scripts(root);
  assert.ok(files.length >= 8, 'the console modules are found');
  for (const file of files) {
    const code = readFileSync(file, 'utf8');
    assert.doesNotMatch(code, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/, file);
    assert.doesNotMatch(code, /setAttribute\(\s*['"](style|on\w+)['"]/, file);
  }
});
