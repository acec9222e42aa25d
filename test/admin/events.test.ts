// The admin events API on both databases: the token boundary, every filter (full-text search
// included), cursor pages that stay stable while events arrive, the detail with its timeline,
// and replays — of one event and of everything matching a filter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { claimBatch } from '../../src/pipeline/claim.js';
import {
  acceptEvent,
  chatBody,
  drain,
  EVENTS_URL,
  eventRow,
  eventsFixture,
  makeWorker,
  PASSWORD,
  transformerBody,
} from '../helpers/events.js';
import { basic, describeEachDialect, type SuiteContext } from '../helpers/suite.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
const ADMIN = { authorization: `Bearer ${TOKEN}` };

function admin(app: FastifyInstance, method: 'GET' | 'POST', url: string, payload?: unknown): Promise<LightMyRequestResponse> {
  return app.inject({ method, url: `/admin/v1${url}`, headers: ADMIN, ...(payload === undefined ? {} : { payload: payload as object }) });
}

interface Page {
  items: { requestId: string; status: string; subscriber: string; dealerUuid: string | null; errorCodes: string[] }[];
  nextCursor: string | null;
}

async function list(app: FastifyInstance, query: string): Promise<Page> {
  const res = await admin(app, 'GET', `/events?${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as Page;
}

const ids = (page: Page) => page.items.map((i) => i.requestId).sort();

/** Processes everything received (the suite's app runs no worker of its own). */
async function processAll(ctx: SuiteContext, now = Date.now()) {
  return drain(makeWorker(ctx.tdb.db, ctx.app.directory, ctx.tdb.config.worker), now);
}

describeEachDialect('admin API: events', { fixture: eventsFixture, env: { ADMIN_TOKEN: TOKEN } }, (ctx) => {
  test('the token boundary holds in both directions', async () => {
    const { app } = ctx();
    const none = await app.inject({ method: 'GET', url: '/admin/v1/events' });
    assert.equal(none.statusCode, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer /);
    assert.equal(none.json().error.code, 'NULL_CREDENTIALS');

    const wrong = await app.inject({ method: 'GET', url: '/admin/v1/events', headers: { authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error.code, 'WRONG_CREDENTIAL');

    // A partner's Basic credentials never open admin routes.
    const partner = await app.inject({
      method: 'GET',
      url: '/admin/v1/events',
      headers: { authorization: basic('multi-partner', PASSWORD) },
    });
    assert.equal(partner.statusCode, 401);
    assert.equal(partner.json().error.code, 'MALFORMED_CREDENTIALS');

    // The admin token never opens partner routes, as Bearer or as a Basic password.
    for (const authorization of [`Bearer ${TOKEN}`, basic('admin', TOKEN), basic('multi-partner', TOKEN)]) {
      const res = await app.inject({ method: 'POST', url: EVENTS_URL, headers: { authorization }, payload: chatBody() });
      assert.equal(res.statusCode, 401, authorization);
    }
  });

  test('filters: status, subscriber, dealer, error code, time range, and words of the raw body', async () => {
    const c = ctx();
    const t0 = Date.now() - 1;
    const ok = await acceptEvent(c.app, chatBody({ chat_code: 'FILTER-OK', summary: 'The quokka needs new tyres' }), {
      username: 'multi-partner',
    });
    const unmapped = await acceptEvent(c.app, chatBody({ chat_code: 'FILTER-BAD', dealer_uuid: 'EXT-404' }), { username: 'multi-partner' });
    const other = await acceptEvent(c.app, chatBody({ chat_code: 'FILTER-P', dealer_uuid: 'P-100' }), { username: 'partner' });
    const t1 = Date.now() + 1;
    await processAll(c);

    const inRange = `since=${new Date(t0).toISOString()}&until=${new Date(t1).toISOString()}`;
    assert.deepEqual(ids(await list(c.app, inRange)), [ok, unmapped, other].sort());
    assert.deepEqual(ids(await list(c.app, `${inRange}&status=REJECTED`)), [unmapped]);
    assert.deepEqual(ids(await list(c.app, `${inRange}&status=PROCESSED,REJECTED&subscriber=partner`)), [other]);
    assert.deepEqual(ids(await list(c.app, `${inRange}&errorCode=DEALER_NOT_MAPPED`)), [unmapped]);
    assert.deepEqual(ids(await list(c.app, `${inRange}&dealer=d-1&subscriber=multi-partner`)), [ok]);
    assert.deepEqual(ids(await list(c.app, 'q=quokka')), [ok]);
    assert.deepEqual(ids(await list(c.app, 'q=QUOKKA%20tyres')), [ok], 'every word, any case');
    assert.deepEqual(ids(await list(c.app, 'q=FILTER-BAD')), [unmapped], 'a hyphenated code is one phrase');
    assert.deepEqual(ids(await list(c.app, 'q=quokka%20FILTER-BAD')), []);
    // Query syntax in the text is only text.
    assert.deepEqual(ids(await list(c.app, `q=${encodeURIComponent('" OR * NEAR( -- \'')}`)), []);
    const item = (await list(c.app, 'q=FILTER-BAD')).items[0];
    assert.equal(item?.status, 'REJECTED');
    assert.deepEqual(item?.errorCodes, ['DEALER_NOT_MAPPED']);
    assert.equal(item?.subscriber, 'multi-partner');
    assert.deepEqual(ids(await list(c.app, `until=${new Date(t0 - 60_000).toISOString()}&q=quokka`)), []);
  });

  test('bad filters are clear 400s', async () => {
    const { app } = ctx();
    for (const query of ['status=DONE', 'limit=0', 'limit=500', 'errorCode=NOPE', 'since=yesterday', 'cursor=not-a-cursor', 'colour=red']) {
      const res = await admin(app, 'GET', `/events?${query}`);
      assert.equal(res.statusCode, 400, query);
      assert.equal(res.json().error.code, 'VALIDATION_FAILED', query);
    }
    const typo = await admin(app, 'GET', '/events?colour=red');
    assert.equal(typo.json().error.message, "Field 'colour' is not allowed here", 'names the unknown parameter');
  });

  test('cursor pages neither repeat nor skip events while new ones arrive', async () => {
    const c = ctx();
    const before = Date.now() - 1;
    const first: string[] = [];
    for (let i = 0; i < 25; i++) first.push(await acceptEvent(c.app, chatBody({ chat_code: `PAGE-${i}` }), { username: 'dotted' }));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(
        c.app,
        `subscriber=dotted&since=${new Date(before).toISOString()}&limit=10${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.items.map((i) => i.requestId));
      cursor = page.nextCursor;
      // Events arriving between pages sort before the cursor: they never shift later pages.
      if (pages++ === 0) for (let i = 0; i < 5; i++) await acceptEvent(c.app, chatBody({ chat_code: `LATE-${i}` }), { username: 'dotted' });
    } while (cursor !== null);
    assert.equal(pages, 3);
    assert.equal(new Set(seen).size, seen.length, 'no event twice');
    assert.deepEqual([...seen].sort(), [...first].sort(), 'every event that existed, once');
  });

  test('detail: the raw body as sent, the canonical record, errors, and a timeline of attempts', async () => {
    const c = ctx();
    const raw = JSON.stringify(chatBody({ chat_code: 'DETAIL-1', summary: 'é — 🚗 <script>alert(1)</script>' }));
    const id = await acceptEvent(c.app, raw, { username: 'multi-partner' });
    const rejected = await acceptEvent(c.app, chatBody({ dealer_uuid: 'EXT-404' }), { username: 'multi-partner' });
    await processAll(c);

    const res = await admin(c.app, 'GET', `/events/${id}`);
    assert.equal(res.statusCode, 200);
    const detail = res.json();
    assert.equal(detail.rawBody, raw);
    assert.equal(detail.status, 'PROCESSED');
    assert.equal(detail.canonical.chat_code, 'DETAIL-1');
    assert.equal(detail.dealerUuid, 'd-1');
    assert.equal(detail.timeline.length, 1);
    assert.equal(detail.timeline[0].outcome, 'PROCESSED');
    assert.equal(detail.timeline[0].attempt, 1);
    assert.equal(detail.timeline[0].workerId, 'w1');

    const bad = (await admin(c.app, 'GET', `/events/${rejected}`)).json();
    assert.equal(bad.status, 'REJECTED');
    assert.equal(bad.canonical, null);
    assert.equal(bad.errors[0].errorCode, 'DEALER_NOT_MAPPED');
    assert.deepEqual(
      bad.timeline.map((t: { outcome: string; cause: string }) => [t.outcome, t.cause]),
      [['REJECTED', 'DEALER_NOT_MAPPED']],
    );

    const missing = await admin(c.app, 'GET', '/events/no-such-event');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'EVENT_NOT_FOUND');
  });

  test('replay one event: back to RECEIVED, a REPLAYED timeline entry and an audit entry; 409 while a worker holds it', async () => {
    const c = ctx();
    const id = await acceptEvent(c.app, chatBody({ chat_code: 'REPLAY-1' }), { username: 'multi-partner' });
    await processAll(c);
    const res = await admin(c.app, 'POST', `/events/${id}/replay`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, 'RECEIVED');
    assert.deepEqual(
      res.json().timeline.map((t: { outcome: string }) => t.outcome),
      ['PROCESSED', 'REPLAYED'],
    );
    const audit = await c.tdb.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('entity', '=', 'event')
      .where('entity_key', '=', id)
      .execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.actor, 'admin-api');
    assert.equal(audit[0]?.action, 'replay');

    // Claimed by a live worker: not replayed under its feet.
    const claimed = await claimBatch(c.tdb.db, { workerId: 'busy', now: Date.now(), limit: 1000, leaseMs: 60_000 });
    assert.ok(claimed.some((e) => e.request_id === id));
    const busy = await admin(c.app, 'POST', `/events/${id}/replay`);
    assert.equal(busy.statusCode, 409);
    assert.equal(busy.json().error.code, 'CONFLICT');
    assert.equal((await admin(c.app, 'POST', '/events/no-such-event/replay')).statusCode, 404);
    // Let the lease run out, so later tests' workers can take these events.
    await processAll(c, Date.now() + 120_000);
  });

  test('replay everything matching a filter: a background job replays all of them, not a page', async () => {
    const c = ctx();
    const rejected: string[] = [];
    for (let i = 0; i < 30; i++)
      rejected.push(await acceptEvent(c.app, chatBody({ chat_code: `BULK-${i}`, dealer_uuid: 'EXT-77' }), { username: 'switch' }));
    const fine = await acceptEvent(c.app, chatBody({ chat_code: 'BULK-OK', dealer_uuid: 'd-2' }), { username: 'switch' });
    await processAll(c);
    assert.equal((await eventRow(c.tdb.db.kysely, fine)).status, 'PROCESSED');

    // The operator fixes the mapping, then replays every REJECTED event of this partner.
    await c.provision({ integrations: [{ subscriber: 'switch', eventType: 'vehicle-service-chat', dealerMap: { 'EXT-77': 'd-1' } }] });
    const started = await admin(c.app, 'POST', '/replays', { filter: { subscriber: 'switch', errorCode: 'DEALER_NOT_MAPPED' } });
    assert.equal(started.statusCode, 202, started.body);
    const job = started.json();
    assert.equal(job.status, 'RUNNING');
    assert.equal(job.total, 30);
    assert.equal(started.headers.location, `/admin/v1/replays/${job.id}`);

    let progress = job;
    for (let i = 0; i < 200 && progress.status === 'RUNNING'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      progress = (await admin(c.app, 'GET', `/replays/${job.id}`)).json();
    }
    assert.equal(progress.status, 'DONE');
    assert.equal(progress.replayed, 30);
    assert.ok(progress.finishedAt);
    assert.equal((await eventRow(c.tdb.db.kysely, fine)).attempts, 1, 'a processed event outside the filter is untouched');

    await processAll(c);
    for (const id of rejected) assert.equal((await eventRow(c.tdb.db.kysely, id)).status, 'PROCESSED');
    assert.equal((await admin(c.app, 'GET', '/replays/00000000-0000-4000-8000-000000000000')).statusCode, 404);
    const bad = await admin(c.app, 'POST', '/replays', { filter: { status: 'NOPE' } });
    assert.equal(bad.statusCode, 400);
  });

  test("the integrations list carries each integration's state and its latest event, status now", async () => {
    const c = ctx();
    interface Listed {
      subscriber: string;
      eventType: string;
      active: boolean;
      lastEvent: { requestId: string; status: string; receivedAt: string; processedAt: string | null; errorCodes: string[] } | null;
    }
    const listed = async () => {
      const res = await admin(c.app, 'GET', '/integrations?limit=200');
      assert.equal(res.statusCode, 200, res.body);
      return new Map((res.json().items as Listed[]).map((i) => [i.subscriber, i]));
    };
    // transformer sends nothing in this suite before this test; inactive-partner's integration is off.
    const first = await listed();
    assert.equal(first.get('transformer')?.lastEvent, null);
    assert.equal(first.get('transformer')?.active, true);
    assert.equal(first.get('inactive-partner')?.active, false);
    assert.equal(first.get('inactive-partner')?.lastEvent, null);

    const ok = await acceptEvent(c.app, transformerBody(), { username: 'transformer' });
    const waiting = await listed();
    assert.equal(waiting.get('transformer')?.lastEvent?.requestId, ok);
    assert.equal(waiting.get('transformer')?.lastEvent?.status, 'RECEIVED');
    assert.equal(waiting.get('transformer')?.lastEvent?.processedAt, null);
    await processAll(c);
    const processed = (await listed()).get('transformer')?.lastEvent;
    assert.equal(processed?.status, 'PROCESSED');
    assert.ok(processed?.processedAt && Date.parse(processed.processedAt) >= Date.parse(processed.receivedAt));

    // A newer one is rejected: the list shows it, with its error codes.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const bad = await acceptEvent(c.app, transformerBody({ store: { id: 'S-404' } }), { username: 'transformer' });
    await processAll(c);
    const rejected = (await listed()).get('transformer')?.lastEvent;
    assert.equal(rejected?.requestId, bad);
    assert.equal(rejected?.status, 'REJECTED');
    assert.deepEqual(rejected?.errorCodes, ['DEALER_NOT_MAPPED']);
    // Other partners' events are not mixed in.
    assert.equal((await listed()).get('inactive-partner')?.lastEvent, null);
  });
});
