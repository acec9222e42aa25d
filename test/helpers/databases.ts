// Real databases for tests: a fresh SQLite file or a fresh PostgreSQL database per test file,
// migrated to the latest schema. TEST_DIALECTS (default "sqlite,postgres") picks the dialects;
// TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) names a database on the
// server we may create and drop databases from.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Config } from '../../src/core/config.js';
import { loadConfig } from '../../src/core/config.js';
import { connect, type Db, type Dialect, type PoolLog } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';

export const ADMIN_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function testDialects(): Dialect[] {
  const wanted = (process.env.TEST_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim());
  for (const d of wanted) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`TEST_DIALECTS: unknown dialect ${d}`);
  return wanted as Dialect[];
}

export interface TestDatabase {
  readonly dialect: Dialect;
  /** The DATABASE_URL that opens this database (for a second connection, a CLI run, a child process). */
  readonly url: string;
  readonly config: Config;
  readonly db: Db;
  /**
   * What the test's own pools (`db`, `connectAgain()`) logged about lost connections: kept here,
   * never on stdout, where it would land in the test runner's report.
   */
  readonly poolWarnings: readonly string[];
  /** Opens another, independent connection (pool) to the same database. */
  connectAgain(): Db;
  destroy(): Promise<void>;
}

/** Runs SQL as the test PostgreSQL administrator. */
export async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(
  dialect: Dialect,
  env: Record<string, string> = {},
  options: { readonly migrate?: boolean } = {},
): Promise<TestDatabase> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'dg-test-'));
    url = `sqlite:${join(dir, 'test.db')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `dg_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    const u = new URL(ADMIN_POSTGRES_URL);
    u.pathname = `/${name}`;
    url = u.toString();
    cleanup = () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', WORKER_ENABLED: 'false', DELIVERY_ENABLED: 'false', ...env });
  const poolWarnings: string[] = [];
  const log: PoolLog = { warn: (obj, msg) => void poolWarnings.push(`${msg} ${JSON.stringify(obj)}`) };
  const db = connect(config.database, { log });
  if (options.migrate !== false) {
    const outcome = await migrateToLatest(db.kysely);
    if (outcome.error !== undefined) throw outcome.error;
  }
  const extra: Db[] = [];
  return {
    dialect,
    url,
    config,
    db,
    poolWarnings,
    connectAgain() {
      const another = connect(config.database, { log });
      extra.push(another);
      return another;
    },
    // The pools first (close() returns once their connections are closed), then the database.
    async destroy() {
      for (const d of extra) await d.close();
      await db.close();
      await cleanup();
    },
  };
}
