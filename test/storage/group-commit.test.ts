// The write path: group commit (many requests, one transaction, each answered after its commit)
// and the storage thread that runs it for the service. Both databases, for real.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { buildApp } from '../../src/app.js';
import type { Dialect } from '../../src/db/connect.js';
import { ownTransaction } from '../../src/db/dialect.js';
import type { Database } from '../../src/db/schema.js';
import { receivedEventRow } from '../../src/eventlog/event.repository.js';
import { planLeadSave } from '../../src/gate/lead.service.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { type BatchStats, GroupCommitter, type NewEventRow } from '../../src/storage/group-commit.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { chatBody, countRows, eventRow, eventsFixture, sendEvent, statusOf } from '../helpers/events.js';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic, waitFor } from '../helpers/suite.js';

function eventRowFor(username: string, idempotencyKey: string | null = null, body = '{"a":1}'): NewEventRow {
  return receivedEventRow({
    requestId: randomUUID(),
    username,
    eventType: 'vehicle-service-chat',
    rawBody: body,
    bodySha256: createHash('sha256').update(body).digest('hex'),
    idempotencyKey,
    receivedAt: Date.now(),
  });
}

/** Whether the commit of `trx` will wait for the disk: SQLite's synchronous level, PostgreSQL's synchronous_commit. */
async function commitLevel(trx: Kysely<Database>, dialect: Dialect): Promise<'fsync' | 'no fsync'> {
  if (dialect === 'sqlite') {
    const { rows } = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(trx);
    return rows[0]?.synchronous === 2 ? 'fsync' : 'no fsync'; // 2: FULL, 1: NORMAL
  }
  const { rows } = await sql<{ synchronous_commit: string }>`SHOW synchronous_commit`.execute(trx);
  return rows[0]?.synchronous_commit === 'on' ? 'fsync' : 'no fsync';
}

for (const dialect of testDialects()) {
  describe(`group commit [${dialect}]`, () => {
    let tdb: TestDatabase;
    const batches: BatchStats[] = [];
    let committer: GroupCommitter;
    before(async () => {
      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, { ...eventsFixture });
      committer = new GroupCommitter({ db: tdb.db, onCommitted: (stats) => batches.push(stats) });
    });
    after(() => tdb?.destroy());

    test('concurrent events share transactions, and every one is stored once it resolves', async () => {
      batches.length = 0;
      const rows = Array.from({ length: 200 }, () => eventRowFor('partner'));
      const outcomes = await Promise.all(rows.map((row) => committer.storeEvent(row)));
      assert.ok(outcomes.every((o) => o.stored));
      const stored = await tdb.db.kysely
        .selectFrom('events')
        .select('request_id')
        .where(
          'request_id',
          'in',
          rows.map((r) => r.request_id),
        )
        .execute();
      assert.equal(stored.length, 200);
      assert.equal(
        batches.reduce((n, b) => n + b.events, 0),
        200,
      );
      assert.ok(batches.length < 20, `200 events took ${batches.length} commits`);
    });

    test('the same idempotency key twice in one batch: one row, the second sees the first', async () => {
      const first = eventRowFor('partner', 'same-batch-key');
      const second = eventRowFor('partner', 'same-batch-key');
      const [a, b] = await Promise.all([committer.storeEvent(first), committer.storeEvent(second)]);
      assert.deepEqual(a, { stored: true });
      assert.deepEqual(b, { stored: false, existing: { requestId: first.request_id, bodySha256: first.body_sha256 } });
    });

    test('a row the database refuses fails alone; its batch mates are stored', async () => {
      const good = Array.from({ length: 5 }, () => eventRowFor('partner'));
      const bad = eventRowFor('nobody-such'); // no such subscriber: the foreign key refuses it
      const results = await Promise.allSettled([...good, bad].map((row) => committer.storeEvent(row)));
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
      );
      for (const row of good) assert.equal((await eventRow(tdb.db.kysely, row.request_id)).status, 'RECEIVED');
      assert.equal(
        await tdb.db.kysely.selectFrom('events').select('request_id').where('request_id', '=', bad.request_id).executeTakeFirst(),
        undefined,
      );
    });

    test('a task commits with the events of its batch and sees them', async () => {
      batches.length = 0;
      const rows = Array.from({ length: 5 }, () => eventRowFor('partner'));
      const stored = rows.map((row) => committer.storeEvent(row));
      const seen = committer.transact((trx) =>
        trx
          .selectFrom('events')
          .select('request_id')
          .where(
            'request_id',
            'in',
            rows.map((r) => r.request_id),
          )
          .execute(),
      );
      await Promise.all(stored);
      assert.equal((await seen).length, 5, 'the task ran after the inserts, in their transaction');
      assert.deepEqual(
        batches.map(({ events, tasks }) => ({ events, tasks })),
        [{ events: 5, tasks: 1 }],
      );
    });

    test('a task that throws fails alone; its batch mates are stored', async () => {
      const rows = Array.from({ length: 3 }, () => eventRowFor('partner'));
      const stored = rows.map((row) => committer.storeEvent(row));
      const failing = committer.transact(async (trx) => {
        await trx.insertInto('dealers').values({ uuid: 'task-dealer', name: 'Rolled back', created_at: 0, updated_at: 0 }).execute();
        throw new Error('task refused');
      });
      await assert.rejects(failing, /task refused/);
      assert.ok((await Promise.all(stored)).every((o) => o.stored));
      for (const row of rows) assert.equal((await eventRow(tdb.db.kysely, row.request_id)).status, 'RECEIVED');
      const dealer = await tdb.db.kysely.selectFrom('dealers').select('uuid').where('uuid', '=', 'task-dealer').executeTakeFirst();
      assert.equal(dealer, undefined, "the task's own writes were rolled back");
    });

    test('tasks that need not be durable commit without waiting for the disk, unless a batch mate must', async () => {
      // What the commit of the transaction the work runs in will wait for, as the database sees it.
      const level = (trx: Kysely<Database>) => commitLevel(trx, dialect);
      assert.equal(await committer.transact(level, { durable: false }), 'no fsync', 'a batch of such tasks alone');
      assert.equal(await committer.transact(level), 'fsync', 'a durable task');
      batches.length = 0;
      const stored = committer.storeEvent(eventRowFor('partner'));
      const mate = committer.transact(level, { durable: false });
      assert.equal((await stored).stored, true);
      assert.equal(await mate, 'fsync', 'in one batch with an event, the event decides');
      assert.deepEqual(
        batches.map(({ events, tasks }) => ({ events, tasks })),
        [{ events: 1, tasks: 1 }],
      );
      // The level was lowered for that one transaction only: the connection is back at FULL.
      if (dialect === 'sqlite') {
        const { rows } = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(tdb.db.kysely);
        assert.equal(rows[0]?.synchronous, 2);
      }
      assert.equal(await ownTransaction(tdb.db.kysely)(level, { durable: false }), 'no fsync', 'a transaction of its own');
      assert.equal(await ownTransaction(tdb.db.kysely)(level), 'fsync');
    });

    test('drain() waits for everything handed in', async () => {
      const pending = Array.from({ length: 20 }, () => committer.storeEvent(eventRowFor('partner')));
      await committer.drain();
      assert.equal(committer.pending, 0);
      await Promise.all(pending);
    });
  });

  describe(`group commit of leads [${dialect}]`, () => {
    let tdb: TestDatabase;
    let committer: GroupCommitter;
    before(async () => {
      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, baseFixture);
      committer = new GroupCommitter({ db: tdb.db });
    });
    after(() => tdb?.destroy());

    test('a lead refused for its references in a batch writes nothing and leaves the others saved', async () => {
      const plans = [
        planLeadSave('d-1', leadBody({ leadId: 'gc-1' }) as never),
        planLeadSave('d-1', leadBody({ leadId: 'gc-2', customer: { uuid: 'c-none' } }) as never),
        planLeadSave('d-1', leadBody({ leadId: 'gc-3' }) as never),
      ];
      const results = await Promise.allSettled(plans.map((plan) => committer.saveLead(plan)));
      assert.equal(results[0]?.status, 'fulfilled');
      assert.equal(results[1]?.status, 'rejected');
      assert.equal(((results[1] as PromiseRejectedResult).reason as { code: string }).code, 'CUSTOMER_NOT_FOUND');
      assert.equal(results[2]?.status, 'fulfilled');
      const ids = await tdb.db.kysely.selectFrom('leads').select('lead_id').orderBy('lead_id').execute();
      assert.deepEqual(
        ids.map((r) => r.lead_id),
        ['gc-1', 'gc-3'],
      );
    });

    test('the same lead saved concurrently in one batch: created once, then updated', async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => committer.saveLead(planLeadSave('d-1', leadBody({ leadId: 'gc-same' }) as never))),
      );
      assert.equal(results.filter((r) => r.isNewCreated).length, 1);
      assert.equal(new Set(results.map((r) => r.prospectUuid)).size, 1);
      const row = await tdb.db.kysely.selectFrom('leads').select('save_count').where('lead_id', '=', 'gc-same').executeTakeFirstOrThrow();
      assert.equal(row.save_count, 5);
    });

    test('one batch mixing new leads, repeats of one lead and refusals: each save answered in its order', async () => {
      const plan = (leadId: string, extra: Record<string, unknown> = {}) => planLeadSave('d-1', leadBody({ leadId, ...extra }) as never);
      const plans = [
        plan('mix-a', { status: 'OPEN' }),
        plan('mix-b'),
        plan('mix-a', { status: 'WORKING' }),
        plan('mix-c', { vehicle: { uuid: 'v-none' } }),
        plan('mix-a', { status: 'CLOSED' }),
      ];
      // Handed in together, so they share a batch (one references query, one upsert per round).
      const results = await Promise.allSettled(plans.map((p) => committer.saveLead(p)));
      const values = results.map((r) => (r.status === 'fulfilled' ? r.value : null));
      assert.deepEqual(
        values.map((v) => v?.isNewCreated),
        [true, true, false, undefined, false],
      );
      assert.equal(((results[3] as PromiseRejectedResult).reason as { code: string }).code, 'VEHICLE_NOT_FOUND');
      assert.equal(values[0]?.prospectUuid, values[2]?.prospectUuid);
      assert.equal(values[0]?.prospectUuid, values[4]?.prospectUuid);
      const row = await tdb.db.kysely
        .selectFrom('leads')
        .select(['save_count', 'status'])
        .where('lead_id', '=', 'mix-a')
        .executeTakeFirstOrThrow();
      assert.deepEqual({ ...row }, { save_count: 3, status: 'CLOSED' }, 'the last save of the batch wins, each one counted');
    });
  });

  describe(`storage thread: the service's write path [${dialect}]`, () => {
    let tdb: TestDatabase;
    let app: FastifyInstance;
    before(async () => {
      tdb = await createTestDatabase(dialect, { WORKER_ENABLED: 'true', WORKER_POLL_MS: '60000' });
      await applyProvisioning(tdb.db.kysely, eventsFixture);
      app = await buildApp(tdb.config, { db: tdb.db, logger: false, storage: 'thread' });
    });
    after(async () => {
      await app?.close();
      await tdb?.destroy();
    });

    test('events acknowledged through the thread are stored, then processed by its worker', async () => {
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => sendEvent(app, chatBody({ chat_code: `T-${i}` }))));
      const ids = replies.map((res) => {
        assert.equal(res.statusCode, 200, res.body);
        return (res.json() as { requestId: string }).requestId;
      });
      assert.equal(new Set(ids).size, 50);
      // The worker in the thread is woken by the commit, not by its 60 s poll.
      await waitFor('every event PROCESSED', async () => {
        const statuses = await Promise.all(ids.map((id) => statusOf(app, id)));
        return statuses.every((s) => s.status === 'PROCESSED');
      });
      assert.equal(await countRows(tdb.db.kysely, 'chat_summaries'), 50);
    });

    test('idempotent retries through the thread give the original requestId; another body is 422', async () => {
      const first = await sendEvent(app, chatBody({ chat_code: 'IDEM' }), { idempotencyKey: 'thread-key' });
      const again = await sendEvent(app, chatBody({ chat_code: 'IDEM' }), { idempotencyKey: 'thread-key' });
      const other = await sendEvent(app, chatBody({ chat_code: 'OTHER' }), { idempotencyKey: 'thread-key' });
      assert.equal(first.statusCode, 200);
      assert.equal(again.json().requestId, first.json().requestId);
      assert.equal(other.statusCode, 422);
      assert.equal(other.json().errors[0].errorCode, 'IDEMPOTENCY_KEY_REUSED');
    });

    test('leads are saved through the thread; an error raised there keeps its code and envelope', async () => {
      await applyProvisioning(tdb.db.kysely, {
        ...eventsFixture,
        subscribers: [
          ...eventsFixture.subscribers,
          { username: 'leads', password: PASSWORD, grants: [{ scope: 'lead.write', dealers: '*' }] },
        ],
      });
      await app.directory.refresh();
      const saved = await app.inject({
        method: 'POST',
        url: '/leads/v2/dealer/d-1',
        headers: { authorization: basic('leads', PASSWORD) },
        payload: leadBody({ customer: { uuid: 'c-1' }, vehicle: { uuid: 'v-1' } }),
      });
      assert.equal(saved.statusCode, 200, saved.body);
      const missing = await app.inject({
        method: 'POST',
        url: '/leads/v2/dealer/d-1',
        headers: { authorization: basic('leads', PASSWORD) },
        payload: leadBody({ customer: { uuid: 'c-nobody' } }),
      });
      assert.equal(missing.statusCode, 422, missing.body);
      assert.equal(missing.json().errorCode, 'CUSTOMER_NOT_FOUND');
    });

    test('a crash of the thread is answered with 503 while it is down, and a new thread takes over', async () => {
      assert.equal((await sendEvent(app, chatBody({ chat_code: 'BEFORE' }))).statusCode, 200);
      // The thread dies (as from a native crash or an out-of-memory).
      const thread = (app.storage as unknown as { thread: { terminate(): Promise<number> } }).thread;
      await thread.terminate();
      const during = await sendEvent(app, chatBody({ chat_code: 'DURING' }));
      assert.equal(during.statusCode, 503, during.body);
      assert.equal(during.json().errors[0].errorCode, 'SERVICE_UNAVAILABLE');
      await waitFor('a new storage thread', async () => (await sendEvent(app, chatBody({ chat_code: 'AFTER' }))).statusCode === 200);
      // Nothing refused was stored; what was acknowledged before and after is.
      const bodies = await tdb.db.kysely.selectFrom('event_bodies').select('raw_body').execute();
      const stored = (code: string) => bodies.filter((b) => b.raw_body.includes(`"${code}"`)).length;
      assert.equal(stored('BEFORE'), 1);
      assert.equal(stored('DURING'), 0);
      assert.ok(stored('AFTER') >= 1);
    });
  });
}
