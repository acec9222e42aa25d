// Acknowledgement after the WAL sync (src/db/wal-sync.ts): the storage thread's SQLite connection
// commits with synchronous=NORMAL and fsyncs the WAL off its thread before answering. These tests
// pin the ordering that keeps "200 means on disk": an event or lead is answered only after a sync
// that started after its COMMIT; a failed sync answers 503 and poisons every later sync.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { fdatasync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, type Db } from '../../src/db/connect.js';
import { isTransientDbError } from '../../src/db/dialect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { WalSync } from '../../src/db/wal-sync.js';
import { receivedEventRow } from '../../src/events/event.repository.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { GroupCommitter, type NewEventRow } from '../../src/storage/group-commit.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { eventsFixture } from '../helpers/events.js';

function rowFor(username: string): NewEventRow {
  const body = `{"n":"${randomUUID()}"}`;
  return receivedEventRow({
    requestId: randomUUID(),
    username,
    eventType: 'vehicle-service-chat',
    rawBody: body,
    bodySha256: createHash('sha256').update(body).digest('hex'),
    idempotencyKey: null,
    receivedAt: Date.now(),
  });
}

/** A `durable()` the test releases by hand, recording what a second connection saw when called. */
function heldSync(onCall: () => Promise<void> = async () => {}) {
  const calls: { release(): void; fail(error: Error): void }[] = [];
  const durable = async () => {
    await onCall();
    return new Promise<void>((resolve, reject) => calls.push({ release: resolve, fail: reject }));
  };
  return { durable, calls };
}

const settledYet = async (promise: Promise<unknown>) => {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 30));
  return settled;
};

for (const dialect of testDialects()) {
  describe(`group commit that answers after a durable() sync [${dialect}]`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, { ...eventsFixture });
    });
    after(() => tdb?.destroy());

    test('an event is answered only after the sync, which starts once its row is committed', async () => {
      const row = rowFor('partner');
      const reader = tdb.connectAgain();
      let visibleAtSync: boolean | undefined;
      const sync = heldSync(async () => {
        const found = await reader.kysely
          .selectFrom('events')
          .select('request_id')
          .where('request_id', '=', row.request_id)
          .executeTakeFirst();
        visibleAtSync = found !== undefined;
      });
      const committer = new GroupCommitter({ db: { ...tdb.db, durable: sync.durable } });
      const answer = committer.storeEvent(row);
      while (sync.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(visibleAtSync, true, 'the sync was asked for after the COMMIT returned');
      assert.equal(await settledYet(answer), false, 'no answer before the sync completes');
      assert.equal(committer.pending, 1, 'drain() still waits for it');
      sync.calls[0]?.release();
      assert.deepEqual(await answer, { stored: true });
      await committer.drain();
    });

    test("the worker's tasks do not wait for the sync; the writer starts the next batch meanwhile", async () => {
      const sync = heldSync();
      const committer = new GroupCommitter({ db: { ...tdb.db, durable: sync.durable } });
      const first = committer.storeEvent(rowFor('partner'));
      while (sync.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      // The first batch waits for its sync; a task handed in now commits in a batch of its own.
      const task = committer.transact(async (trx) => (await trx.selectFrom('events').select('request_id').execute()).length);
      assert.ok((await task) >= 1, 'the task ran and resolved while the first sync was still held');
      assert.equal(await settledYet(first), false);
      for (const call of sync.calls) call.release();
      await first;
    });

    test('a failed sync answers its requests with a transient error (503) and tells the owner', async () => {
      const sync = heldSync();
      const failures: unknown[] = [];
      const committer = new GroupCommitter({ db: { ...tdb.db, durable: sync.durable }, onSyncFailed: (err) => failures.push(err) });
      const answers = [committer.storeEvent(rowFor('partner')), committer.storeEvent(rowFor('partner'))];
      while (sync.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      for (const call of sync.calls) call.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      for (const answer of answers) {
        await assert.rejects(answer, (err: unknown) => {
          assert.ok(isTransientDbError(err), 'answered as 503 SERVICE_UNAVAILABLE, never as acknowledged');
          return true;
        });
      }
      assert.equal(failures.length, 1);
      await committer.drain();
    });
  });
}

describe('WalSync on a real SQLite WAL file', () => {
  let dir: string;
  let db: Db;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dg-walsync-'));
    db = connect({ dialect: 'sqlite', path: join(dir, 'gate.db') }, { walSync: true });
    const outcome = await migrateToLatest(db.kysely);
    if (outcome.error !== undefined) throw outcome.error;
  });
  after(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the connection commits with synchronous=NORMAL and exposes durable()', async () => {
    const { sql } = await import('kysely');
    const mode = await sql<{ synchronous: number }>`pragma synchronous`.execute(db.kysely);
    assert.equal(mode.rows[0]?.synchronous, 1, 'NORMAL: the WAL is synced by WalSync, not inside COMMIT');
    assert.equal(typeof db.durable, 'function');
    const plain = connect({ dialect: 'sqlite', path: join(dir, 'gate.db') });
    const full = await sql<{ synchronous: number }>`pragma synchronous`.execute(plain.kysely);
    assert.equal(full.rows[0]?.synchronous, 2, 'every other connection keeps FULL');
    assert.equal(plain.durable, undefined);
    await plain.close();
  });

  test('events stored through a committer on it are answered after a real fdatasync', async () => {
    await applyProvisioning(db.kysely, { ...eventsFixture });
    const committer = new GroupCommitter({ db });
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => committer.storeEvent(rowFor('partner'))));
    assert.ok(outcomes.every((o) => o.stored));
    await committer.drain();
  });

  test('syncs asked for while one runs share the next one', async () => {
    const wal = new WalSync(join(dir, 'gate.db-wal'));
    try {
      const calls = Array.from({ length: 10 }, () => wal.sync());
      await Promise.all(calls);
      // The first call starts a sync; the nine that came while it ran wait for one more.
      assert.equal(new Set(calls.slice(1)).size, 1);
      assert.notEqual(calls[0], calls[1]);
    } finally {
      wal.close();
    }
  });

  test('after a failed sync, every later sync fails too', async () => {
    let failNext = false;
    const fsync = (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
      if (failNext) callback(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      else fdatasync(fd, callback);
    };
    const wal = new WalSync(join(dir, 'gate.db-wal'), fsync);
    try {
      await wal.sync();
      failNext = true;
      await assert.rejects(wal.sync(), /EIO/);
      failNext = false;
      await assert.rejects(wal.sync(), /EIO/, 'poisoned: the WAL past the lost frames is unreadable');
    } finally {
      wal.close();
    }
  });
});
