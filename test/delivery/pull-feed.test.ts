// The pull feed end to end on both databases: a pull destination made through the admin API
// (its feed token shown once), lead saves written to its outbox, read back in order from
// GET /feeds/v1/{name} signed (verified with the standardwebhooks package), cursor paging,
// acknowledging by reading past, a restart continuing from the cursor, long polls, tokens of
// other destinations refused, and the sender leaving pull messages alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { buildApp } from '../../src/app.js';
import { eventsFixture, PASSWORD } from '../helpers/events.js';
import { leadBody } from '../helpers/fixtures.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const TOKEN = 'test-admin-token-0123456789abcdef';

function admin(app: FastifyInstance, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url: `/admin/v1${url}`,
    headers: { authorization: `Bearer ${TOKEN}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

interface FeedItem {
  id: string;
  type: string;
  createdAt: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  signature: string;
  timestamp: number;
}

const feed = (app: FastifyInstance, name: string, token: string | undefined, query = '') =>
  app.inject({
    method: 'GET',
    url: `/feeds/v1/${name}${query}`,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });

describeEachDialect(
  'pull feed',
  {
    fixture: eventsFixture,
    env: { ADMIN_TOKEN: TOKEN, DELIVERY_ENABLED: 'true', DELIVERY_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8', DELIVERY_POLL_MS: '50' },
  },
  (ctx) => {
    let saved = 0;
    const saveLead = async (app: FastifyInstance) => {
      const res = await app.inject({
        method: 'POST',
        url: '/leads/v2/dealer/d-1',
        headers: { authorization: basic('no-scope', PASSWORD) },
        payload: leadBody({ leadId: `feed-lead-${++saved}` }),
      });
      assert.equal(res.statusCode, 200, res.body);
    };
    const tokens: Record<string, string> = {};
    let secret = '';

    test('a pull destination is created with its feed token shown once; webhook-only operations refuse it', async () => {
      const { app, tdb } = ctx();
      const created = await admin(app, 'POST', '/destinations', { name: 'dms', kind: 'pull', eventTypes: ['lead.created'] });
      assert.equal(created.statusCode, 201, created.body);
      const body = created.json();
      assert.equal(body.kind, 'pull');
      assert.equal(body.url, null);
      assert.match(body.feedToken, /^dgf_[A-Za-z0-9_-]{43}$/);
      tokens.dms = body.feedToken;
      secret = body.secret;
      const other = await admin(app, 'POST', '/destinations', { name: 'other', kind: 'pull', eventTypes: ['lead.created'] });
      tokens.other = other.json().feedToken;

      const stored = await tdb.db.kysely
        .selectFrom('destinations')
        .select('feed_token_sha256')
        .where('name', '=', 'dms')
        .executeTakeFirstOrThrow();
      assert.match(String(stored.feed_token_sha256), /^[0-9a-f]{64}$/);
      const read = await admin(app, 'GET', '/destinations/dms');
      assert.ok(!read.body.includes(tokens.dms as string), 'the token is not shown again');

      const withUrl = await admin(app, 'POST', '/destinations', {
        name: 'bad',
        kind: 'pull',
        url: 'http://127.0.0.1/x',
        eventTypes: ['lead.created'],
      });
      assert.equal(withUrl.statusCode, 400);
      assert.ok(withUrl.body.includes('url:'));
      const noUrl = await admin(app, 'POST', '/destinations', { name: 'bad', eventTypes: ['lead.created'] });
      assert.equal(noUrl.statusCode, 400);
      assert.ok(noUrl.body.includes('url: required'));

      const testSend = await admin(app, 'POST', '/destinations/dms/test', {});
      assert.equal(testSend.statusCode, 409, testSend.body);
      assert.equal(testSend.json().error.code, 'CONFLICT');
      const toWebhook = await admin(app, 'PUT', '/destinations/dms', {
        kind: 'webhook',
        url: 'http://127.0.0.1/x',
        eventTypes: ['lead.created'],
      });
      assert.equal(toWebhook.statusCode, 409);
      const kept = await admin(app, 'PUT', '/destinations/dms', { eventTypes: ['lead.created'] });
      assert.equal(kept.statusCode, 200, kept.body);
      assert.equal(kept.json().kind, 'pull');
    });

    test("no token, a malformed or wrong one, another destination's, an unknown destination: 401 alike", async () => {
      const { app } = ctx();
      const none = await feed(app, 'dms', undefined);
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().error.code, 'NULL_CREDENTIALS');
      assert.match(String(none.headers['www-authenticate']), /^Bearer/);
      assert.equal(
        (await app.inject({ url: '/feeds/v1/dms', headers: { authorization: 'Basic abc' } })).json().error.code,
        'MALFORMED_CREDENTIALS',
      );
      for (const [name, token] of [
        ['dms', 'dgf_wrong'],
        ['dms', tokens.other],
        ['other', tokens.dms],
        ['nope', tokens.dms],
        ['nope', 'dgf_wrong'],
      ] as const) {
        const res = await feed(app, name, token);
        assert.equal(res.statusCode, 401, `${name}: ${res.body}`);
        assert.equal(res.json().error.code, 'WRONG_CREDENTIAL');
        assert.equal(res.json().error.message, 'Invalid feed token');
      }
      assert.equal((await feed(app, 'dms', tokens.dms, '?limit=0')).statusCode, 400);
      assert.equal((await feed(app, 'dms', tokens.dms, '?wait=31')).statusCode, 400);
    });

    test('messages are read in order, signed, paged by cursor; reading past acknowledges; a restart continues', async () => {
      const { app, tdb } = ctx();
      for (let i = 0; i < 5; i++) await saveLead(app);
      const first = await feed(app, 'dms', tokens.dms, '?limit=3');
      assert.equal(first.statusCode, 200, first.body);
      const page1 = first.json() as { items: FeedItem[]; nextCursor: string };
      assert.equal(page1.items.length, 3);
      const wh = new Webhook(secret);
      for (const item of page1.items) {
        const verified = wh.verify(JSON.stringify(item.payload), {
          'webhook-id': item.id,
          'webhook-timestamp': String(item.timestamp),
          'webhook-signature': item.signature,
        }) as { type: string };
        assert.equal(verified.type, 'lead.created');
        assert.equal(item.type, 'lead.created');
      }
      const leadIds = page1.items.map((i) => i.payload.data.prospectUuid);
      assert.equal(new Set(leadIds).size, 3);

      const rows = await tdb.db.kysely
        .selectFrom('outbox_messages')
        .select(['id', 'seq', 'status', 'attempts'])
        .where('destination', '=', 'dms')
        .orderBy('seq')
        .execute();
      assert.equal(rows.length, 5);
      assert.deepEqual(
        page1.items.map((i) => i.id),
        rows.slice(0, 3).map((r) => r.id),
      );
      assert.equal(page1.nextCursor, String(rows[2]?.seq));
      assert.ok(
        rows.every((r) => r.status === 'PENDING'),
        'nothing is acknowledged before reading past it',
      );

      // A restart: another app on the same database continues from the cursor.
      const restarted = await buildApp(tdb.config, { db: tdb.db, logger: false });
      try {
        const second = (await feed(restarted, 'dms', tokens.dms, `?after=${page1.nextCursor}&limit=3`)).json() as {
          items: FeedItem[];
          nextCursor: string;
        };
        assert.deepEqual(
          second.items.map((i) => i.id),
          rows.slice(3).map((r) => r.id),
        );
        assert.equal(second.nextCursor, String(rows[4]?.seq));
        const statuses = await tdb.db.kysely
          .selectFrom('outbox_messages')
          .select(['status', 'delivered_at'])
          .where('destination', '=', 'dms')
          .orderBy('seq')
          .execute();
        assert.deepEqual(
          statuses.map((s) => s.status),
          ['DELIVERED', 'DELIVERED', 'DELIVERED', 'PENDING', 'PENDING'],
        );
        assert.ok(statuses[0]?.delivered_at !== null);
        const empty = (await feed(restarted, 'dms', tokens.dms, `?after=${second.nextCursor}`)).json();
        assert.deepEqual(empty, { items: [], nextCursor: second.nextCursor });
        const all = await tdb.db.kysely.selectFrom('outbox_messages').select('status').where('destination', '=', 'dms').execute();
        assert.ok(all.every((s) => s.status === 'DELIVERED'));
      } finally {
        await restarted.close();
      }
      // The sender never took them: no attempt, none logged.
      const attempts = await tdb.db.kysely
        .selectFrom('delivery_attempts')
        .innerJoin('outbox_messages', 'outbox_messages.id', 'delivery_attempts.message_id')
        .select('delivery_attempts.id')
        .where('outbox_messages.destination', 'in', ['dms', 'other'])
        .execute();
      assert.equal(attempts.length, 0);
      const taken = await tdb.db.kysely.selectFrom('outbox_messages').select('attempts').where('destination', '=', 'other').execute();
      assert.equal(taken.length, 5);
      assert.ok(taken.every((m) => m.attempts === 0));
    });

    test('a long poll answers soon after a message arrives, and empty after its wait', async () => {
      const { app, tdb } = ctx();
      const last = await tdb.db.kysely
        .selectFrom('outbox_messages')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('destination', '=', 'dms')
        .executeTakeFirstOrThrow();
      const cursor = String(last.seq);

      let started = Date.now();
      const idle = (await feed(app, 'dms', tokens.dms, `?after=${cursor}&wait=1`)).json();
      const idleMs = Date.now() - started;
      assert.deepEqual(idle, { items: [], nextCursor: cursor });
      assert.ok(idleMs >= 950 && idleMs < 3000, `waited ${idleMs} ms`);

      // Over a real connection too (not only inject): the wait holds, then an empty page.
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      started = Date.now();
      const overHttp = await fetch(`${address}/feeds/v1/dms?after=${cursor}&wait=1`, {
        headers: { authorization: `Bearer ${tokens.dms}` },
      });
      assert.equal(overHttp.status, 200);
      assert.deepEqual(await overHttp.json(), { items: [], nextCursor: cursor });
      assert.ok(Date.now() - started >= 950, `over HTTP waited ${Date.now() - started} ms`);

      started = Date.now();
      const polling = feed(app, 'dms', tokens.dms, `?after=${cursor}&wait=5`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const savedAt = Date.now();
      await saveLead(app);
      const answer = await polling;
      const latency = Date.now() - savedAt;
      assert.equal(answer.statusCode, 200, answer.body);
      assert.equal(answer.json().items.length, 1);
      assert.ok(Date.now() - started >= 300);
      assert.ok(latency < 1500, `answered ${latency} ms after the save`);
    });

    test('rotating the feed token: the new one opens the feed, the old one no longer does', async () => {
      const { app } = ctx();
      const rotated = await admin(app, 'POST', '/destinations/dms/rotate-feed-token');
      assert.equal(rotated.statusCode, 200, rotated.body);
      const fresh = rotated.json().feedToken as string;
      assert.notEqual(fresh, tokens.dms);
      assert.equal((await feed(app, 'dms', tokens.dms)).statusCode, 401);
      assert.equal((await feed(app, 'dms', fresh)).statusCode, 200);
      assert.equal((await admin(app, 'POST', '/destinations/dms/disable')).statusCode, 200);
      const disabled = await feed(app, 'dms', fresh);
      assert.equal(disabled.statusCode, 409);
      assert.equal(disabled.json().error.code, 'CONFLICT');
      assert.equal((await feed(app, 'dms', 'dgf_wrong')).statusCode, 401, 'a disabled feed still refuses a wrong token first');
      assert.equal((await admin(app, 'POST', '/destinations/dms/enable')).statusCode, 200);
      assert.equal((await feed(app, 'dms', fresh)).statusCode, 200);
      assert.equal((await admin(app, 'POST', '/destinations/nope/rotate-feed-token')).statusCode, 404);
      await admin(app, 'POST', '/destinations', { name: 'hook', url: 'http://127.0.0.1:9/x', eventTypes: ['lead.updated'] });
      const webhook = await admin(app, 'POST', '/destinations/hook/rotate-feed-token');
      assert.equal(webhook.statusCode, 409);
      assert.equal(webhook.json().error.code, 'CONFLICT');
    });
  },
);

describeEachDialect('pull feed: failed authentications', { env: { ADMIN_TOKEN: TOKEN, AUTH_MAX_FAILURES_PER_ADDRESS: '3' } }, (ctx) => {
  test('an address that keeps presenting wrong tokens is refused with 429 until its window ends; the right token then too', async () => {
    const { app } = ctx();
    const created = await admin(app, 'POST', '/destinations', { name: 'guarded', kind: 'pull', eventTypes: ['lead.created'] });
    assert.equal(created.statusCode, 201, created.body);
    const token = created.json().feedToken as string;
    for (let i = 0; i < 3; i++) assert.equal((await feed(app, 'guarded', `dgf_wrong_${i}`)).statusCode, 401);
    const blocked = await feed(app, 'guarded', token);
    assert.equal(blocked.statusCode, 429, blocked.body);
    assert.equal(blocked.json().error.code, 'TOO_MANY_REQUESTS');
    assert.ok(Number(blocked.headers['retry-after']) > 0);
  });
});
