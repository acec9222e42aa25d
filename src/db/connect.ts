// Opens a Kysely instance for the configured dialect. Everything that differs between SQLite and
// PostgreSQL lives here and in dialect.ts; the rest of the code base is dialect-neutral.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import type { Database } from './schema.js';

export type Dialect = DatabaseConfig['dialect'];

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

const INT8_OID = 20;
// Epoch-millisecond timestamps live in bigint columns; they fit a JS number until the year 287396.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads do not accept a union format
    return pg.types.getTypeParser(oid, format as any);
  },
};

export function openSqlite(path: string): SqliteDatabase.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  // Durability: WAL + synchronous=FULL fsyncs the WAL on every commit, so a commit that returned
  // survives power loss. busy_timeout lets `apply` and a separate worker process share the file.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

export function connect(config: DatabaseConfig, options: { poolSize?: number } = {}): Db {
  if (config.dialect === 'sqlite') {
    const sqlite = openSqlite(config.path);
    // Kysely's SQLite driver holds one connection behind a mutex: a single writer, which is what
    // SQLite wants anyway; transactions never interleave within a process.
    const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { kysely, dialect: 'sqlite', close: () => kysely.destroy() };
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: options.poolSize ?? 10,
    types: pgTypes,
    // Durability: never acknowledge before the commit is flushed, whatever the server default is.
    options: '-c synchronous_commit=on',
    connectionTimeoutMillis: 5000,
  });
  // An idle client losing its connection (server restart) must not crash the process;
  // the next query gets a fresh client and /readyz reports the outage.
  pool.on('error', () => {});
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { kysely, dialect: 'postgres', close: () => kysely.destroy() };
}
