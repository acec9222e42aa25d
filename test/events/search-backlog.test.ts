// Full-text search of raw bodies with indexing behind the gate (migration 0006, search-index.ts):
// an event is found the moment it is stored and after it was indexed; bodies deleted or rewritten
// before or after indexing keep the SQLite FTS index consistent; the indexer waits for a quiet
// gate unless its backlog is too long. Both databases where the behaviour is shared.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import { whereEvents } from '../../src/eventlog/event.filter.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { GroupCommitter } from '../../src/storage/group-commit.js';
import { backlogSize, indexBacklog, SearchIndexer } from '../../src/storage/search-index.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { eventsFixture, newEventRow } from '../helpers/events.js';

async function store(committer: GroupCommitter, body: string): Promise<string> {
  const row = newEventRow('partner', body);
  await committer.storeEvent(row);
  return row.request_id;
}

const search = async (db: Kysely<Database>, text: string) =>
  (await whereEvents(db.selectFrom('events').select('events.request_id'), { text }, db).execute()).map((r) => r.request_id).sort();

/**
 * SQLite's own check of the FTS index: its structure always, and with an empty backlog (rank 1)
 * that it holds exactly the bodies of event_bodies — a queued body is, by design, not in it yet.
 */
async function assertIndexConsistent(db: Kysely<Database>): Promise<void> {
  const complete = (await backlogSize(db)) === 0 ? 1 : 0;
  await sql`INSERT INTO event_search(event_search, rank) VALUES ('integrity-check', ${complete})`.execute(db);
}

for (const dialect of testDialects()) {
  describe(`search finds every stored event, indexed or not yet [${dialect}]`, () => {
    let tdb: TestDatabase;
    let committer: GroupCommitter;
    before(async () => {
      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, { ...eventsFixture });
      committer = new GroupCommitter({ db: tdb.db });
    });
    after(() => tdb?.destroy());

    test('an event is found at once, and still after the backlog was indexed', async () => {
      const db = tdb.db.kysely;
      const id = await store(committer, '{"summary":"Grinding brakes on ACME-77","vin":"1HGCM82633A004352"}');
      assert.deepEqual(await search(db, 'grinding ACME-77'), [id]);
      assert.deepEqual(await search(db, 'brakes 1hgcm82633a004352'), [id], 'case-insensitive, like the index');
      assert.deepEqual(await search(db, 'grinding ACME-78'), [], 'every word must occur');
      assert.equal(await backlogSize(db), 1, 'stored, not yet tokenized');
      assert.equal(await db.transaction().execute((trx) => indexBacklog(trx, 500)), 1);
      assert.equal(await backlogSize(db), 0);
      if (dialect === 'sqlite') await assertIndexConsistent(db);
      assert.deepEqual(await search(db, 'grinding ACME-77'), [id]);
      assert.deepEqual(await search(db, 'grinding ACME-78'), []);
    });

    test('a purged body leaves the index and the backlog; the others are still found', async () => {
      const db = tdb.db.kysely;
      const indexed = await store(committer, '{"summary":"purge-test indexed"}');
      await db.transaction().execute((trx) => indexBacklog(trx, 500));
      const queued = await store(committer, '{"summary":"purge-test queued"}');
      const kept = await store(committer, '{"summary":"purge-test kept"}');
      await db.deleteFrom('event_bodies').where('request_id', 'in', [indexed, queued]).execute();
      assert.equal(await backlogSize(db), 1, 'only the kept body is still queued');
      assert.deepEqual(await search(db, 'purge-test'), [kept]);
      await db.transaction().execute((trx) => indexBacklog(trx, 500));
      if (dialect === 'sqlite') await assertIndexConsistent(db);
      assert.deepEqual(await search(db, 'purge-test'), [kept]);
    });

    test('a body rewritten after it was indexed is found by its new words only', async () => {
      const db = tdb.db.kysely;
      const id = await store(committer, '{"summary":"rewritten-both before"}');
      await db.transaction().execute((trx) => indexBacklog(trx, 500));
      await db.updateTable('event_bodies').set({ raw_body: '{"summary":"rewritten-both after"}' }).where('request_id', '=', id).execute();
      assert.deepEqual(await search(db, 'rewritten-both before'), []);
      assert.deepEqual(await search(db, 'rewritten-both after'), [id]);
      await db.transaction().execute((trx) => indexBacklog(trx, 500));
      if (dialect === 'sqlite') await assertIndexConsistent(db);
      assert.deepEqual(await search(db, 'rewritten-both before'), []);
      assert.deepEqual(await search(db, 'rewritten-both after'), [id]);
    });

    test('indexers working at once index every queued body exactly once', async () => {
      const db = tdb.db.kysely;
      const ids = await Promise.all(Array.from({ length: 60 }, (_, i) => store(committer, `{"summary":"parallel-index ${i}"}`)));
      // PostgreSQL: two API nodes' connections. SQLite has one writer: its chunks queue up on it.
      const other = dialect === 'postgres' ? tdb.connectAgain().kysely : db;
      const chunks = await Promise.all([
        ...Array.from({ length: 4 }, () => db.transaction().execute((trx) => indexBacklog(trx, 10))),
        ...Array.from({ length: 4 }, () => other.transaction().execute((trx) => indexBacklog(trx, 10))),
      ]);
      assert.equal(
        chunks.reduce((a, b) => a + b, 0),
        60,
      );
      assert.equal(await backlogSize(db), 0);
      if (dialect === 'postgres') {
        const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM event_search WHERE request_id = ANY(${ids})`.execute(db);
        assert.equal(rows[0]?.n, 60);
      } else {
        await assertIndexConsistent(db);
      }
      assert.equal((await search(db, 'parallel-index')).length, 60);
    });
  });
}

if (testDialects().includes('sqlite')) {
  describe('the SQLite search backlog keeps the FTS index consistent', () => {
    let tdb: TestDatabase;
    let committer: GroupCommitter;
    before(async () => {
      tdb = await createTestDatabase('sqlite');
      await applyProvisioning(tdb.db.kysely, { ...eventsFixture });
      committer = new GroupCommitter({ db: tdb.db });
    });
    after(() => tdb?.destroy());

    const indexAll = (db: Kysely<Database>) => db.transaction().execute((trx) => indexBacklog(trx, 10_000));

    test('bodies deleted before and after indexing (retention) leave a consistent index', async () => {
      const db = tdb.db.kysely;
      const indexed = await store(committer, '{"summary":"purged-after-indexing oil"}');
      await indexAll(db);
      const queued = await store(committer, '{"summary":"purged-while-queued oil"}');
      const kept = await store(committer, '{"summary":"kept oil"}');
      await db.deleteFrom('event_bodies').where('request_id', 'in', [indexed, queued]).execute();
      assert.equal(await backlogSize(db), 1, 'the queued body left the backlog with its row');
      await assertIndexConsistent(db);
      await indexAll(db);
      await assertIndexConsistent(db);
      assert.deepEqual(await search(db, 'oil'), [kept]);
    });

    test('a rowid reused after the newest body was deleted is indexed all the same', async () => {
      const db = tdb.db.kysely;
      const first = await store(committer, '{"summary":"rowid-reuse alpha"}');
      await indexAll(db);
      const rowidOf = async (id: string) =>
        (await sql<{ r: number }>`SELECT rowid AS r FROM event_bodies WHERE request_id = ${id}`.execute(db)).rows[0]?.r;
      const reusedRowid = await rowidOf(first);
      await db.deleteFrom('event_bodies').where('request_id', '=', first).execute();
      const second = await store(committer, '{"summary":"rowid-reuse beta"}');
      assert.equal(await rowidOf(second), reusedRowid, 'SQLite gave the new body the freed rowid');
      assert.deepEqual(await search(db, 'rowid-reuse beta'), [second]);
      await indexAll(db);
      await assertIndexConsistent(db);
      assert.deepEqual(await search(db, 'rowid-reuse beta'), [second]);
      assert.deepEqual(await search(db, 'alpha'), []);
    });

    test('a body rewritten before or after indexing is found by its new text only', async () => {
      const db = tdb.db.kysely;
      const queued = await store(committer, '{"summary":"rewrite-queued old"}');
      const indexed = await store(committer, '{"summary":"rewrite-indexed old"}');
      await db.transaction().execute(async (trx) => {
        // index only the older of the two
        await indexBacklog(trx, 1);
      });
      await db.updateTable('event_bodies').set({ raw_body: '{"summary":"rewrite-queued new"}' }).where('request_id', '=', queued).execute();
      await db
        .updateTable('event_bodies')
        .set({ raw_body: '{"summary":"rewrite-indexed new"}' })
        .where('request_id', '=', indexed)
        .execute();
      await assertIndexConsistent(db);
      await indexAll(db);
      await assertIndexConsistent(db);
      assert.deepEqual(await search(db, 'rewrite new'), [queued, indexed].sort());
      assert.deepEqual(await search(db, 'rewrite old'), []);
    });

    test('a failing database is reported once, then retried with a pause, not every tick', async () => {
      let calls = 0;
      const errors: unknown[] = [];
      const indexer = new SearchIndexer({
        transact: async () => {
          calls++;
          throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
        },
        gateBusy: () => false,
        onError: (err) => errors.push(err),
      });
      try {
        await new Promise((resolve) => setTimeout(resolve, 1300));
        // Ticks come every 50 ms; after the first failure it waits 1 s, then 2 s.
        assert.ok(calls >= 1 && calls <= 2, `${calls} attempts in 1.3 s`);
        assert.equal(errors.length, 1, 'one report per outage');
      } finally {
        await indexer.stop();
      }
    });

    test('the indexer waits while the gate is busy, unless its backlog is past the bound', async () => {
      const db = tdb.db.kysely;
      await indexAll(db);
      let busy = true;
      const errors: unknown[] = [];
      const indexer = new SearchIndexer({
        transact: (work) => committer.transact(work),
        gateBusy: () => busy,
        onError: (err) => errors.push(err),
        chunk: 3,
        busyChunk: 1,
        maxBacklog: 4,
      });
      try {
        for (let i = 0; i < 3; i++) await store(committer, `{"summary":"busy-gate ${i}"}`);
        indexer.stored(3);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(await backlogSize(db), 3, 'a busy gate and a short backlog: nothing indexed');
        for (let i = 3; i < 6; i++) await store(committer, `{"summary":"busy-gate ${i}"}`);
        indexer.stored(3);
        const deadline = Date.now() + 5000;
        while ((await backlogSize(db)) > 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.ok((await backlogSize(db)) <= 4, 'past the bound it indexes under load, down to the bound');
        busy = false;
        while ((await backlogSize(db)) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(await backlogSize(db), 0, 'a quiet gate: the backlog is emptied');
        await assertIndexConsistent(db);
        assert.equal((await search(db, 'busy-gate')).length, 6);
        assert.deepEqual(errors, []);
      } finally {
        await indexer.stop();
      }
    });
  });
}
