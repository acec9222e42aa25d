// The worker commits a batch's outcomes in one transaction. One event the database refuses at
// commit must not hold back the rest of its batch: they are committed one by one and only the
// refused event is retried.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { Transact } from '../../src/db/connect.js';
import { claimBatch, releaseClaims } from '../../src/pipeline/claim.js';
import { GroupCommitter } from '../../src/storage/group-commit.js';
import { acceptEvent, chatBody, drain, eventRow, eventsFixture, makeWorker } from '../helpers/events.js';
import { describeEachDialect } from '../helpers/suite.js';

describeEachDialect('pipeline: batch commit', { fixture: eventsFixture }, (ctx) => {
  // The storage thread on SQLite hands the worker its group committer's transactions (claims and
  // outcomes commit with the gate's inserts); the isolation must hold there too.
  for (const writer of ['own transactions', 'group-commit batches'] as const) {
    test(`a batch commits together, and a refused event is isolated from the rest (${writer})`, async () => {
      const { tdb, app } = ctx();
      const committer = new GroupCommitter({ db: tdb.db });
      const transact: Transact | undefined = writer === 'own transactions' ? undefined : (work) => committer.transact(work);
      const db = tdb.db.kysely;
      // A trigger stands in for any per-row refusal by the database (a constraint, bad data…).
      if (tdb.dialect === 'sqlite') {
        await sql`CREATE TRIGGER refuse_poison BEFORE INSERT ON chat_summaries WHEN NEW.chat_code = 'POISON'
        BEGIN SELECT RAISE(ABORT, 'poison refused'); END`.execute(db);
      } else {
        await sql`CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger AS $$
        BEGIN IF NEW.chat_code = 'POISON' THEN RAISE EXCEPTION 'poison refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`.execute(db);
        await sql`CREATE TRIGGER refuse_poison BEFORE INSERT ON chat_summaries FOR EACH ROW EXECUTE FUNCTION refuse_poison()`.execute(db);
      }
      const good = [];
      for (let i = 0; i < 5; i++) good.push(await acceptEvent(app, chatBody({ chat_code: `GOOD-${i}` })));
      const poison = await acceptEvent(app, chatBody({ chat_code: 'POISON' }));

      const now = Date.now();
      const report = await makeWorker(tdb.db, app.directory, tdb.config.worker, 'w1', transact).runOnce(now);
      assert.equal(report.claimed, 6);
      assert.equal(report.processed, 5);
      assert.equal(report.retried, 1);

      for (const id of good) assert.equal((await eventRow(db, id)).status, 'PROCESSED');
      const refused = await eventRow(db, poison);
      assert.equal(refused.status, 'RECEIVED');
      assert.equal(refused.attempts, 1);
      assert.ok(refused.run_after > now, 'scheduled for a retry');
      assert.match(String(refused.last_error), /poison refused/);
      assert.equal(refused.locked_by, null);

      // Once the cause is gone, the retry succeeds.
      await sql`DROP TRIGGER refuse_poison ${sql.raw(tdb.dialect === 'postgres' ? 'ON chat_summaries' : '')}`.execute(db);
      await drain(makeWorker(tdb.db, app.directory, tdb.config.worker, 'w1', transact), now + 60_000);
      assert.equal((await eventRow(db, poison)).status, 'PROCESSED');
    });
  }

  test('claims released by a stopping worker are free at once, without an attempt counted', async () => {
    const { tdb, app } = ctx();
    await drain(makeWorker(tdb.db, app.directory, tdb.config.worker), Date.now() + 120_000);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await acceptEvent(app, chatBody({ chat_code: `RELEASE-${i}` })));
    const now = Date.now();
    const claimed = await claimBatch(tdb.db, { workerId: 'stopping', now, limit: 10, leaseMs: 30_000 });
    assert.deepEqual(claimed.map((e) => e.request_id).sort(), [...ids].sort());
    assert.equal(await releaseClaims(tdb.db, 'someone-else', ids, now), 0, 'only the holder can release');
    assert.equal(await releaseClaims(tdb.db, 'stopping', ids, now), 3);
    for (const id of ids) {
      const row = await eventRow(tdb.db.kysely, id);
      assert.equal(row.locked_by, null);
      assert.equal(row.attempts, 0);
    }
    const retaken = await claimBatch(tdb.db, { workerId: 'next', now: now + 1, limit: 10, leaseMs: 30_000 });
    assert.equal(retaken.length, 3, 'claimable right away, not after the lease');
  });
});
