// Acknowledged means on disk: check the settings that make a returned commit durable, on the
// connections the service actually uses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { isTransientDbError, isUniqueViolation } from '../../src/db/dialect.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';

for (const dialect of testDialects()) {
  describe(`storage settings [${dialect}]`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase(dialect);
    });
    after(async () => {
      await tdb.destroy();
    });

    if (dialect === 'sqlite') {
      test('SQLite runs in WAL mode with synchronous=FULL and foreign keys on', async () => {
        const mode = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(tdb.db.kysely);
        assert.equal(mode.rows[0]?.journal_mode, 'wal');
        const sync = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(tdb.db.kysely);
        assert.equal(sync.rows[0]?.synchronous, 2, 'synchronous=FULL is 2');
        const fk = await sql<{ foreign_keys: number }>`PRAGMA foreign_keys`.execute(tdb.db.kysely);
        assert.equal(fk.rows[0]?.foreign_keys, 1);
      });
    } else {
      test('every PostgreSQL connection forces synchronous_commit=on', async () => {
        // Several concurrent queries so more than one pooled connection is checked.
        const results = await Promise.all(
          Array.from({ length: 5 }, () =>
            tdb.db.kysely.transaction().execute((trx) => sql<{ synchronous_commit: string }>`SHOW synchronous_commit`.execute(trx)),
          ),
        );
        for (const r of results) assert.equal(r.rows[0]?.synchronous_commit, 'on');
      });
    }

    test('bigint timestamps come back as numbers', async () => {
      const row = await tdb.db.kysely.selectFrom('provisioning_state').select(['revision', 'applied_at']).executeTakeFirstOrThrow();
      assert.equal(typeof row.revision, 'number');
      assert.equal(typeof row.applied_at, 'number');
    });

    test('a duplicate key is recognized as a unique violation, and not as an outage', async () => {
      const now = Date.now();
      await tdb.db.kysely.insertInto('dealers').values({ uuid: 'dup', name: 'A', created_at: now, updated_at: now }).execute();
      const err = await tdb.db.kysely
        .insertInto('dealers')
        .values({ uuid: 'dup', name: 'B', created_at: now, updated_at: now })
        .execute()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err, 'the second insert fails');
      assert.equal(isUniqueViolation(err), true);
      assert.equal(isTransientDbError(err), false);
    });

    test('a closed database is an outage (transient), not a bug', async () => {
      const other = tdb.connectAgain();
      await other.kysely.selectFrom('dealers').selectAll().execute(); // open it for real first
      await other.close();
      const err = await other.kysely
        .selectFrom('dealers')
        .selectAll()
        .execute()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err);
      assert.equal(isTransientDbError(err), true);
    });
  });
}
