// Failed-authentication throttling (docs/api.md, "Authentication failures and lockout"): a flood
// of wrong passwords cannot lock a partner out, a guessed username locks only for the window, and
// 429s never tell whether a username exists.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { baseFixture, PASSWORD } from '../helpers/fixtures.js';
import { basic, describeEachDialect, type SuiteContext } from '../helpers/suite.js';

const URL = '/leads/v2/dealer/d-1/lead/00000000-0000-4000-8000-000000000000';

function get(ctx: SuiteContext, username: string, password: string, remoteAddress: string): Promise<LightMyRequestResponse> {
  return ctx.app.inject({ method: 'GET', url: URL, headers: { authorization: basic(username, password) }, remoteAddress });
}

// A partner's first sign-in (no cached verification) answers 404 LEAD_NOT_FOUND: authenticated.
const SIGNED_IN = 404;

describeEachDialect('auth flood from one address', { fixture: baseFixture }, (ctx) => {
  test('500 wrong passwords at concurrency 100 from one address: a partner signing in for the first time from elsewhere is not refused', async () => {
    const statuses = new Map<number, number>();
    const flood = async (lane: number) => {
      for (let i = 0; i < 5; i++) {
        const res = await get(ctx(), 'multi', `wrong-${lane}-${i}`, '10.0.0.66');
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }
    };
    const flooding = Promise.all(Array.from({ length: 100 }, (_, lane) => flood(lane)));
    // While the flood runs, a partner signs in for the first time from its own address.
    const partner = await Promise.all([get(ctx(), 'writer', PASSWORD, '10.0.0.7'), get(ctx(), 'reader', PASSWORD, '10.0.0.8')]);
    await flooding;
    for (const res of partner) assert.equal(res.statusCode, SIGNED_IN, res.body);
    // The flood itself was refused: 401s while it was guessing, then 429s.
    assert.ok((statuses.get(429) ?? 0) > 400, JSON.stringify([...statuses]));
    assert.equal([...statuses.keys()].filter((s) => s !== 401 && s !== 429).length, 0, JSON.stringify([...statuses]));
  });
});

describeEachDialect(
  'auth lockout per username',
  { fixture: baseFixture, env: { AUTH_MAX_FAILURES_PER_USERNAME: '3', AUTH_MAX_FAILURES_PER_ADDRESS: '1000' } },
  (ctx) => {
    test('after 3 failures a username is locked for the rest of the window: 429 with Retry-After, even with the right password from a new address', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await get(ctx(), 'other', `guess-${i}`, `10.1.0.${i}`)).statusCode, 401);
      const locked = await get(ctx(), 'other', PASSWORD, '10.1.1.1');
      assert.equal(locked.statusCode, 429, locked.body);
      assert.equal(locked.json().errorCode, 'TOO_MANY_REQUESTS');
      const retryAfter = Number(locked.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 60, String(locked.headers['retry-after']));
    });

    test('an unknown username is locked exactly like an existing one (a 429 reveals nothing)', async () => {
      const answers: LightMyRequestResponse[] = [];
      for (const username of ['nobody-here', 'reader']) {
        for (let i = 0; i < 3; i++) assert.equal((await get(ctx(), username, `guess-${i}`, '10.2.0.1')).statusCode, 401);
        answers.push(await get(ctx(), username, `guess-x`, '10.2.0.2'));
      }
      const [unknown, known] = answers as [LightMyRequestResponse, LightMyRequestResponse];
      assert.equal(unknown.statusCode, 429);
      assert.equal(known.statusCode, 429);
      assert.equal(unknown.json().message, known.json().message);
      assert.equal(unknown.headers['retry-after'], known.headers['retry-after']);
    });

    test('a partner already signed in is not locked out by others, from any address', async () => {
      // multi signs in from its own address first.
      assert.equal((await get(ctx(), 'multi', PASSWORD, '10.3.0.1')).statusCode, SIGNED_IN);
      // Someone else then guesses its password until the username is locked.
      for (let i = 0; i < 5; i++) await get(ctx(), 'multi', `guess-${i}`, '10.3.9.9');
      assert.equal((await get(ctx(), 'multi', 'guess-new', '10.3.9.9')).statusCode, 429);
      // The cached credential is never throttled, from any address…
      assert.equal((await get(ctx(), 'multi', PASSWORD, '10.3.0.1')).statusCode, SIGNED_IN);
      assert.equal((await get(ctx(), 'multi', PASSWORD, '10.3.0.200')).statusCode, SIGNED_IN);
    });

    test('the same wrong password repeated is not counted again: a misconfigured client does not lock itself out', async () => {
      for (let i = 0; i < 10; i++) assert.equal((await get(ctx(), 'writer', 'stale-password', '10.4.0.1')).statusCode, 401);
      assert.equal((await get(ctx(), 'writer', PASSWORD, '10.4.0.1')).statusCode, SIGNED_IN);
    });
  },
);

describeEachDialect(
  'auth lockout per address',
  { fixture: baseFixture, env: { AUTH_MAX_FAILURES_PER_ADDRESS: '4', AUTH_MAX_FAILURES_PER_USERNAME: '1000' } },
  (ctx) => {
    test('an address with 4 failures (over any usernames) gets 429 for the rest of the window; other addresses are unaffected', async () => {
      for (let i = 0; i < 4; i++) assert.equal((await get(ctx(), `user-${i}`, 'nope-nope', '10.5.0.1')).statusCode, 401);
      const blocked = await get(ctx(), 'writer', PASSWORD, '10.5.0.1');
      assert.equal(blocked.statusCode, 429, blocked.body);
      assert.ok(Number(blocked.headers['retry-after']) >= 1);
      assert.equal((await get(ctx(), 'writer', PASSWORD, '10.5.0.2')).statusCode, SIGNED_IN);
    });
  },
);
