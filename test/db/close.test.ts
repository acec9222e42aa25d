// Db.close() on PostgreSQL returns once the pool's connections are closed, not merely asked to
// close: pg's Pool.end() resolves while its idle clients are still saying goodbye to the server.
// A database dropped right after close() (every test database is, WITH (FORCE)) then had those
// connections cut, and each cut one was logged as lost: warning lines in the middle of `npm test`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../../src/core/config.js';
import { connect, type PoolLog } from '../../src/db/connect.js';
import { ADMIN_POSTGRES_URL, createTestDatabase, testDialects } from '../helpers/databases.js';

const ROUNDS = 5;
const CONNECTIONS = 10;

describe('closing a PostgreSQL pool [postgres]', {
  skip: !testDialects().includes('postgres') && 'TEST_DIALECTS does not include postgres',
}, () => {
  let admin: pg.Client;
  before(async () => {
    admin = new pg.Client({ connectionString: ADMIN_POSTGRES_URL });
    await admin.connect();
  });
  after(() => admin?.end());

  test('close() returns once no connection to the database is left, so a DROP … WITH (FORCE) right after cuts none', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const name = `dg_close_${process.pid}_${round}`;
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(ADMIN_POSTGRES_URL);
      url.pathname = `/${name}`;
      const lost: string[] = [];
      const log: PoolLog = { warn: (_obj, msg) => void lost.push(msg) };
      const db = connect(loadConfig({ DATABASE_URL: url.toString() }).database, { log });
      try {
        // Several connections at once, all idle in the pool afterwards.
        await Promise.all(Array.from({ length: CONNECTIONS }, () => sql`SELECT pg_sleep(0.02)`.execute(db.kysely)));
      } finally {
        await db.close();
      }
      // Asked on a connection already open, at once: nothing may still be connected.
      const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name]);
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(Number(rows[0]?.n), 0, `round ${round}: connections still open after close()`);
      assert.deepEqual(lost, [], `round ${round}: the pool logged lost connections`);
    }
  });

  test("the test helper's destroy() cuts no connection and prints nothing of its pools", async () => {
    const tdb = await createTestDatabase('postgres');
    const again = tdb.connectAgain();
    await Promise.all(
      [tdb.db, again].flatMap((db) => Array.from({ length: CONNECTIONS }, () => sql`SELECT pg_sleep(0.02)`.execute(db.kysely))),
    );
    await tdb.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(tdb.poolWarnings, []);
  });
});
