// PG_POOL_SIZE bounds the connections a PostgreSQL pool opens (PostgreSQL only).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../src/core/config.js';
import { connect } from '../../src/db/connect.js';
import { createTestDatabase, testDialects } from '../helpers/databases.js';

test('a pool never opens more connections than PG_POOL_SIZE', async (t) => {
  if (!testDialects().includes('postgres')) return t.skip('PostgreSQL is not among TEST_DIALECTS');
  const tdb = await createTestDatabase('postgres');
  const db = connect(loadConfig({ DATABASE_URL: tdb.url, PG_POOL_SIZE: '2' }).database);
  try {
    const pids = await Promise.all(
      Array.from({ length: 8 }, () =>
        sql<{ pid: number }>`SELECT pg_backend_pid() AS pid, pg_sleep(0.05)`.execute(db.kysely).then((r) => r.rows[0]?.pid),
      ),
    );
    assert.equal(new Set(pids).size, 2, `backends used: ${[...new Set(pids)].join(', ')}`);
  } finally {
    await db.close();
    await tdb.destroy();
  }
});
