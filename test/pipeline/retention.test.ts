// Retention on both databases (src/pipeline/retention.ts): bodies of old PROCESSED events are
// deleted and REJECTED ones kept, idempotency keys are released after their lifetime, 0 keeps
// forever, batches are bounded, search forgets purged bodies, and an event without its body still
// answers its status and admin detail but cannot be replayed. The clock is injected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { ConfigError, loadConfig, type RetentionConfig } from '../../src/core/config.js';
import type { Db, Transact } from '../../src/db/connect.js';
import { ownTransaction, RETENTION_LOCK_KEY } from '../../src/db/dialect.js';
import type { NewEventRow } from '../../src/db/schema.js';
import { insertEvents, receivedEventRow } from '../../src/eventlog/event.repository.js';
import { replayEvents } from '../../src/pipeline/replay.js';
import { initialRetentionState, RETENTION_BATCH_SIZE, runRetention, startRetention } from '../../src/pipeline/retention.js';
import { GroupCommitter } from '../../src/storage/group-commit.js';
import { backlogSize, indexBacklog } from '../../src/storage/search-index.js';
import { addDestination } from '../helpers/destinations.js';
import { acceptEvent, chatBody, drain, eventsFixture, getStatus, makeWorker, sendEvent, silentLog, summaryRow } from '../helpers/events.js';
import { describeEachDialect, type SuiteContext } from '../helpers/suite.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
const DAY = 86_400_000;
const BOTH: RetentionConfig = { bodyDays: 30, idempotencyDays: 7, intervalMs: 60_000 };
const BODIES_ONLY: RetentionConfig = { ...BOTH, idempotencyDays: 0 };
const KEYS_ONLY: RetentionConfig = { ...BOTH, bodyDays: 0 };
const NEITHER: RetentionConfig = { ...BOTH, bodyDays: 0, idempotencyDays: 0 };

function admin(app: FastifyInstance, method: 'GET' | 'POST', url: string): Promise<LightMyRequestResponse> {
  return app.inject({ method, url: `/admin/v1${url}`, headers: { authorization: `Bearer ${TOKEN}` } });
}

async function searchIds(app: FastifyInstance, words: string): Promise<string[]> {
  const res = await admin(app, 'GET', `/events?q=${encodeURIComponent(words)}&limit=100`);
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { items: { requestId: string }[] }).items.map((i) => i.requestId).sort();
}

async function bodyOf(db: Db, requestId: string): Promise<string | undefined> {
  const row = await db.kysely.selectFrom('event_bodies').select('raw_body').where('request_id', '=', requestId).executeTakeFirst();
  return row?.raw_body;
}

async function keyOf(db: Db, requestId: string): Promise<string | null | undefined> {
  const row = await db.kysely.selectFrom('events').select('idempotency_key').where('request_id', '=', requestId).executeTakeFirst();
  return row?.idempotency_key;
}

const processAll = (c: SuiteContext) => drain(makeWorker(c.tdb.db, c.app.directory, c.tdb.config.worker));

/** On SQLite the batches ride in group-commit tasks, as in the storage thread. */
function transactFor(db: Db): { transact: Transact; committer?: GroupCommitter } {
  if (db.dialect !== 'sqlite') return { transact: ownTransaction(db.kysely) };
  const committer = new GroupCommitter({ db });
  return { transact: (work) => committer.transact(work), committer };
}

/** Old events written directly: `status`, received and finished `ageDays` before now. */
async function insertOld(db: Db, count: number, status: string, ageDays: number, word: string): Promise<string[]> {
  const at = Date.now() - ageDays * DAY;
  const rows: NewEventRow[] = [];
  for (let i = 0; i < count; i++) {
    const requestId = `${status.toLowerCase()}-${ageDays}-${word}-${String(i).padStart(5, '0')}`;
    rows.push({
      ...receivedEventRow({
        requestId,
        username: 'multi-partner',
        eventType: 'vehicle-service-chat',
        rawBody: JSON.stringify({ summary: `${word} number ${i}` }),
        bodySha256: 'x'.repeat(64),
        idempotencyKey: `${word}-${i}`,
        receivedAt: at + i,
      }),
      status,
      processed_at: status === 'RECEIVED' ? null : at + i + 1,
    });
  }
  for (let i = 0; i < rows.length; i += 100) await insertEvents(db.kysely, rows.slice(i, i + 100));
  return rows.map((r) => r.request_id);
}

test('config: RETENTION_* defaults, 0 = forever, and bounds', () => {
  assert.deepEqual(loadConfig({}).worker.retention, { bodyDays: 30, idempotencyDays: 7, intervalMs: 60_000 });
  const set = loadConfig({ RETENTION_BODY_DAYS: '0', RETENTION_IDEMPOTENCY_DAYS: '0', RETENTION_INTERVAL_MS: '5000' });
  assert.deepEqual(set.worker.retention, { bodyDays: 0, idempotencyDays: 0, intervalMs: 5000 });
  assert.throws(() => loadConfig({ RETENTION_BODY_DAYS: '-1' }), ConfigError);
  assert.throws(() => loadConfig({ RETENTION_INTERVAL_MS: '10' }), ConfigError);
});

describeEachDialect('retention: bodies', { fixture: eventsFixture, env: { ADMIN_TOKEN: TOKEN } }, (ctx) => {
  test('old PROCESSED bodies go, REJECTED ones and recent ones stay; the purged event still answers; replay is refused', async () => {
    const c = ctx();
    const db = c.tdb.db;
    const processed = await acceptEvent(c.app, chatBody({ summary: 'zebracorn quagga' }), { idempotencyKey: 'body-k1' });
    const rejected = await acceptEvent(c.app, chatBody({ summary: 'zebracorn wipers', dealer_uuid: 'EXT-404' }));
    await processAll(c);
    assert.deepEqual(await searchIds(c.app, 'zebracorn'), [processed, rejected].sort());

    // 0 = forever: nothing is examined, however old.
    const never = await runRetention({ db, config: NEITHER, now: Date.now() + 1000 * DAY });
    assert.deepEqual(never, { bodiesPurged: 0, keysReleased: 0, messagesPurged: 0, batches: 0, skipped: false });

    // Younger than RETENTION_BODY_DAYS: kept.
    const young = await runRetention({ db, config: BODIES_ONLY, now: Date.now() + 10 * DAY });
    assert.equal(young.bodiesPurged, 0);
    assert.ok(await bodyOf(db, processed));

    const old = await runRetention({ db, config: BODIES_ONLY, now: Date.now() + 31 * DAY, ...transactFor(db) });
    assert.equal(old.bodiesPurged, 1);
    assert.equal(old.keysReleased, 0, 'RETENTION_IDEMPOTENCY_DAYS=0 keeps keys');
    assert.equal(await bodyOf(db, processed), undefined);
    assert.ok(await bodyOf(db, rejected), 'a REJECTED event keeps its body (replays need it)');
    assert.equal(await keyOf(db, processed), 'body-k1');

    // The search index forgets the purged body and still finds the kept one.
    assert.deepEqual(await searchIds(c.app, 'zebracorn'), [rejected]);
    assert.deepEqual(await searchIds(c.app, 'quagga'), []);
    if (c.tdb.dialect === 'sqlite') {
      // The index holds every body once its backlog is indexed (migration 0006), and no purged one.
      await db.kysely.transaction().execute((trx) => indexBacklog(trx, 10_000));
      await sql`INSERT INTO event_search(event_search, rank) VALUES ('integrity-check', 1)`.execute(db.kysely);
    }

    // The partner's status and the admin detail still answer; the canonical record stays.
    const status = await getStatus(c.app, processed);
    assert.equal(status.statusCode, 200, status.body);
    assert.equal(status.json().status, 'PROCESSED');
    assert.ok(status.json().event, 'the canonical record is kept');
    const detail = await admin(c.app, 'GET', `/events/${processed}`);
    assert.equal(detail.statusCode, 200, detail.body);
    assert.equal(detail.json().rawBody, null);
    assert.ok(detail.json().canonical);
    assert.equal((await admin(c.app, 'GET', `/events/${rejected}`)).json().rawBody.includes('zebracorn'), true);

    // Replaying it is refused cleanly; a replay of everything matching skips it and says so.
    const replay = await admin(c.app, 'POST', `/events/${processed}/replay`);
    assert.equal(replay.statusCode, 409, replay.body);
    assert.equal(replay.json().error.code, 'CONFLICT');
    assert.match(replay.json().error.message, /purged/);
    const dryRun = await c.app.inject({
      method: 'POST',
      url: '/admin/v1/integrations/multi-partner/vehicle-service-chat/dry-run',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { requestId: processed },
    });
    assert.equal(dryRun.statusCode, 409, dryRun.body);
    const all = await replayEvents(db.kysely, { requestIds: [processed, rejected] });
    assert.deepEqual(all, { replayed: 1, skippedPurged: 1 });
    const after = await getStatus(c.app, processed);
    assert.equal(after.json().status, 'PROCESSED');
    // The replayed REJECTED event is processed again (and rejected again) with its body.
    const report = await processAll(c);
    assert.equal(report.rejected, 1);
  });

  test('the worker never processes a RECEIVED event without a body: it fails it instead of crashing', async () => {
    const c = ctx();
    const db = c.tdb.db;
    const id = await acceptEvent(c.app, chatBody({ summary: 'orphan' }));
    await db.kysely.deleteFrom('event_bodies').where('request_id', '=', id).execute();
    const report = await processAll(c);
    assert.equal(report.processed, 0);
    const status = await getStatus(c.app, id);
    assert.equal(status.statusCode, 200, status.body);
    assert.equal(status.json().status, 'FAILED');
    // Retention never creates one: RECEIVED events keep their body however old.
    const [received] = await insertOld(db, 1, 'RECEIVED', 100, 'waiting');
    await runRetention({ db, config: BODIES_ONLY, now: Date.now() });
    assert.ok(await bodyOf(db, received as string));
  });
});

describeEachDialect('retention: idempotency keys', { fixture: eventsFixture }, (ctx) => {
  test('a key is released after its lifetime: the same key then makes a new event; the old event stays', async () => {
    const c = ctx();
    const db = c.tdb.db;
    const body = chatBody({ summary: 'key lifetime' });
    const first = await acceptEvent(c.app, body, { idempotencyKey: 'K-1' });
    await processAll(c);
    assert.equal(await acceptEvent(c.app, body, { idempotencyKey: 'K-1' }), first, 'within its lifetime the key answers the first event');

    // Younger than its lifetime, or RETENTION_IDEMPOTENCY_DAYS=0: kept.
    assert.equal((await runRetention({ db, config: KEYS_ONLY, now: Date.now() + 3 * DAY })).keysReleased, 0);
    assert.equal((await runRetention({ db, config: NEITHER, now: Date.now() + 1000 * DAY })).keysReleased, 0);
    const same = await sendEvent(c.app, body, { idempotencyKey: 'K-1' });
    assert.equal(same.statusCode, 200, same.body);
    assert.equal(same.json().requestId, first);

    const released = await runRetention({ db, config: KEYS_ONLY, now: Date.now() + 8 * DAY, ...transactFor(db) });
    assert.equal(released.keysReleased, 1);
    assert.equal(released.bodiesPurged, 0, 'RETENTION_BODY_DAYS=0 keeps bodies');
    assert.equal(await keyOf(db, first), null);
    const second = await acceptEvent(c.app, body, { idempotencyKey: 'K-1' });
    assert.notEqual(second, first, 'a released key is accepted as new');
    assert.equal(await keyOf(db, second), 'K-1');
    assert.ok(await bodyOf(db, first));
    assert.ok(await summaryRow(db.kysely, first), 'the canonical record stays');
    assert.equal((await getStatus(c.app, first)).statusCode, 200);
    // The new event holds the key now.
    assert.equal(await acceptEvent(c.app, body, { idempotencyKey: 'K-1' }), second);
  });
});

describeEachDialect('retention: batches', { fixture: eventsFixture }, (ctx) => {
  test('1,200 eligible rows are purged in 3 batches; the next run starts where the last stopped', async () => {
    const c = ctx();
    const db = c.tdb.db;
    assert.equal(RETENTION_BATCH_SIZE, 500);
    const old = await insertOld(db, 1200, 'PROCESSED', 40, 'bulk');
    const recent = await insertOld(db, 3, 'PROCESSED', 5, 'fresh');
    const state = initialRetentionState();
    const now = Date.now();
    const { transact, committer } = transactFor(db);
    const report = await runRetention({ db, config: BODIES_ONLY, now, transact, state });
    assert.deepEqual(report, { bodiesPurged: 1200, keysReleased: 0, messagesPurged: 0, batches: 3, skipped: false });
    await committer?.drain();
    for (const id of [old[0], old[699], old[1199]]) assert.equal(await bodyOf(db, id as string), undefined);
    for (const id of recent) assert.ok(await bodyOf(db, id));
    if (c.tdb.dialect === 'sqlite') {
      // Bodies purged from the backlog (never indexed) left it; the kept ones are indexed now.
      assert.equal(await backlogSize(db.kysely), 3);
      await db.kysely.transaction().execute((trx) => indexBacklog(trx, 10_000));
      const hits = await sql<{ n: number }>`SELECT count(*) AS n FROM event_search WHERE event_search MATCH 'bulk'`.execute(db.kysely);
      assert.equal(Number(hits.rows[0]?.n), 0);
      const kept = await sql<{ n: number }>`SELECT count(*) AS n FROM event_search WHERE event_search MATCH 'fresh'`.execute(db.kysely);
      assert.equal(Number(kept.rows[0]?.n), 3);
      await sql`INSERT INTO event_search(event_search, rank) VALUES ('integrity-check', 1)`.execute(db.kysely);
    }
    // From where it stopped: nothing new to examine.
    assert.equal((await runRetention({ db, config: BODIES_ONLY, now: now + 1000, state })).batches, 0);
    // The keys of the same rows, in batches too (7 days).
    const keys = await runRetention({ db, config: KEYS_ONLY, now, state });
    assert.deepEqual(keys, { bodiesPurged: 0, keysReleased: 1200, messagesPurged: 0, batches: 3, skipped: false });
    // A smaller batch size, a fresh state: same outcome, more batches, nothing left to do.
    const again = await runRetention({ db, config: BODIES_ONLY, now, batchSize: 100 });
    assert.equal(again.bodiesPurged, 0);
    assert.equal(again.batches, 12);
  });

  test('delivered outbox messages older than the body retention go with their attempts; dead letters and waiting ones stay', async () => {
    const db = ctx().tdb.db;
    const now = Date.now();
    await addDestination(db.kysely, 'retained', 'https://example.com/hook', { eventTypes: ['lead.created'] });
    const message = (id: string, status: string, deliveredDaysAgo: number | null) => ({
      id,
      destination: 'retained',
      event_type: 'lead.created',
      dealer_uuid: 'd-1',
      ordering_key: 'd-1',
      source_id: id,
      payload: '{}',
      created_at: now - 90 * DAY,
      status,
      next_attempt_at: now,
      delivered_at: deliveredDaysAgo === null ? null : now - deliveredDaysAgo * DAY,
    });
    const ids = ['msg_old_delivered', 'msg_new_delivered', 'msg_old_failed', 'msg_old_pending'];
    await db.kysely
      .insertInto('outbox_messages')
      .values([
        message('msg_old_delivered', 'DELIVERED', 31),
        message('msg_new_delivered', 'DELIVERED', 29),
        message('msg_old_failed', 'FAILED', null),
        message('msg_old_pending', 'PENDING', null),
      ])
      .execute();
    await db.kysely
      .insertInto('delivery_attempts')
      .values(ids.map((id) => ({ message_id: id, attempt: 1, at: now - 40 * DAY, duration_ms: 5, status_code: 204 })))
      .execute();
    const report = await runRetention({ db, config: BODIES_ONLY, now, ...transactFor(db) });
    assert.equal(report.messagesPurged, 1);
    const left = await db.kysely.selectFrom('outbox_messages').select('id').where('destination', '=', 'retained').orderBy('id').execute();
    assert.deepEqual(
      left.map((r) => r.id),
      ['msg_new_delivered', 'msg_old_failed', 'msg_old_pending'],
    );
    const attempts = await db.kysely.selectFrom('delivery_attempts').select('message_id').where('message_id', 'in', ids).execute();
    assert.equal(attempts.length, 3, 'the purged message took its attempts with it');
    await db.kysely.deleteFrom('destinations').where('name', '=', 'retained').execute();
  });

  test('the scheduler purges on its own and stops cleanly', async () => {
    const c = ctx();
    const db = c.tdb.db;
    const [id] = await insertOld(db, 1, 'PROCESSED', 60, 'scheduled');
    const lines: object[] = [];
    const log = { info: (fields: object) => lines.push(fields), warn: (fields: object) => silentLog.warn(fields) };
    const scheduler = startRetention({ db, config: { ...BODIES_ONLY, intervalMs: 20 }, log });
    for (let i = 0; i < 200 && (await bodyOf(db, id as string)) !== undefined; i++) await new Promise((r) => setTimeout(r, 10));
    await scheduler.stop();
    assert.equal(await bodyOf(db, id as string), undefined);
    assert.ok(lines.some((l) => (l as { bodiesPurged?: number }).bodiesPurged === 1));
  });

  test('PostgreSQL: one purge at a time across processes (advisory lock); concurrent runs purge each body once', async (t) => {
    const c = ctx();
    if (c.tdb.dialect !== 'postgres') return t.skip('PostgreSQL only');
    const db = c.tdb.db;
    const other = c.tdb.connectAgain();
    await insertOld(db, 700, 'PROCESSED', 50, 'contended');
    // Another process holds the lock: this run stops at once and says so.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = other.kysely.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${RETENTION_LOCK_KEY}::bigint)`.execute(trx);
      locked();
      await held;
    });
    await isLocked;
    const blocked = await runRetention({ db, config: BODIES_ONLY, now: Date.now() });
    assert.deepEqual(blocked, { bodiesPurged: 0, keysReleased: 0, messagesPurged: 0, batches: 0, skipped: true });
    release();
    await holder;
    // Two at once: every body purged exactly once, whichever run got each batch.
    const [a, b] = await Promise.all([
      runRetention({ db, config: BODIES_ONLY, now: Date.now(), batchSize: 100 }),
      runRetention({ db: other, config: BODIES_ONLY, now: Date.now(), batchSize: 100 }),
    ]);
    const left = await db.kysely
      .selectFrom('event_bodies')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('request_id', 'like', 'processed-50-contended-%')
      .executeTakeFirstOrThrow();
    assert.equal(Number(left.n), 0);
    assert.ok((a?.bodiesPurged ?? 0) + (b?.bodiesPurged ?? 0) <= 700);
  });
});
