// Opens a Kysely instance for the configured dialect. Everything that differs between SQLite and
// PostgreSQL lives here and in dialect.ts; the rest of the code base is dialect-neutral.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import { type Driver, Kysely, type SqliteDatabase as KyselySqliteDatabase, PostgresDialect, SqliteDialect } from 'kysely';
import type pg from 'pg';
import pino from 'pino';
import type { DatabaseConfig } from '../core/config.js';
import { loggerOptions } from '../core/logger.js';
import type { Database } from './schema.js';

export type Dialect = DatabaseConfig['dialect'];

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: Dialect;
  /** What opened it: another thread or process opens the same database from this. */
  readonly config: DatabaseConfig;
  close(): Promise<void>;
}

export interface TransactOptions {
  /**
   * false: the commit need not reach the disk before it returns — for work whose loss in a power
   * failure costs only work done again (dialect.ts, transactionNotWaitingForDisk). Default true.
   */
  readonly durable?: boolean;
}

/**
 * Runs work in a transaction. By default its own (`ownTransaction`, dialect.ts); in the storage
 * thread on SQLite, the next group-commit batch's, so the worker's writes share the gate's commits.
 */
export type Transact = <T>(work: (trx: Kysely<Database>) => Promise<T>, options?: TransactOptions) => Promise<T>;

/** Where a PostgreSQL pool reports the connections it lost (idle or checked out). */
export interface PoolLog {
  warn(obj: object, msg: string): void;
}

export interface ConnectOptions {
  /** PostgreSQL pool size (PG_POOL_SIZE for the service). */
  readonly poolSize?: number;
  /** Logs lost connections; without it, a warn-level JSON line on stdout. */
  readonly log?: PoolLog;
}

let fallbackLog: PoolLog | undefined;
const defaultPoolLog = (): PoolLog => {
  fallbackLog ??= pino(loggerOptions('warn')).child({ component: 'pg-pool' });
  return fallbackLog;
};

// Each driver is loaded only when its database is used: a SQLite service never holds pg's
// modules (about 15 MB of RSS per thread), and the reverse.
const require = createRequire(import.meta.url);
const loadPg = () => require('pg') as typeof pg;
const loadSqlite = () => require('better-sqlite3') as typeof SqliteDatabase;

const INT8_OID = 20;
// Epoch-millisecond timestamps live in bigint columns; they fit a JS number until the year 287396.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads do not accept a union format
    return loadPg().types.getTypeParser(oid, format as any);
  },
};

/** Every commit fsyncs the WAL; dialect.ts lowers it for one transaction at a time (transactionNotWaitingForDisk). */
export const SQLITE_SYNCHRONOUS = 'FULL';

function openSqlite(path: string): SqliteDatabase.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const Sqlite = loadSqlite();
  const sqlite = new Sqlite(path);
  // Durability: WAL + synchronous=FULL fsyncs the WAL on every commit, so a commit that returned
  // survives power loss. busy_timeout lets `apply` and a separate worker process share the file.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${SQLITE_SYNCHRONOUS}`);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

/** Longest close() waits for the pool's connections to be closed by the server. */
const CLOSE_WAIT_MS = 2000;

// Multi-row statements differ by their row count (a gate batch of 1 to 256 rows, a pipeline
// batch of up to 250), so a busy service uses a few hundred shapes.
const MAX_CACHED_STATEMENTS = 1024;

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running a small
 * statement (27 % of the process in a profile of the event gate). Statements are cached by their
 * SQL text — the query builder produces the same text for the same query shape.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = sqlite.prepare(text);
        // Past the bound the oldest shape goes (Maps iterate in insertion order), not all of them.
        if (statements.size >= MAX_CACHED_STATEMENTS) statements.delete(statements.keys().next().value as string);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

/**
 * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR: a full
 * disk, a read-only file). Kysely then sends ROLLBACK anyway, which fails with "cannot rollback -
 * no transaction is active" and replaces the real error: a full disk became a 500 instead of a
 * 503 (SQLITE_ERROR is not transient). So ROLLBACK is sent only while a transaction is open.
 */
class SafeRollbackSqliteDialect extends SqliteDialect {
  constructor(private readonly sqlite: SqliteDatabase.Database) {
    super({ database: withStatementCache(sqlite) });
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const rollback = driver.rollbackTransaction.bind(driver);
    driver.rollbackTransaction = async (connection) => {
      if (this.sqlite.inTransaction) await rollback(connection);
    };
    return driver;
  }
}

export function connect(config: DatabaseConfig, options: ConnectOptions = {}): Db {
  if (config.dialect === 'sqlite') {
    const sqlite = openSqlite(config.path);
    // Kysely's SQLite driver holds one connection behind a mutex: transactions never interleave
    // within a thread. The service writes from one thread only (storage.thread.ts).
    const kysely = new Kysely<Database>({ dialect: new SafeRollbackSqliteDialect(sqlite) });
    return { kysely, dialect: 'sqlite', config, close: () => kysely.destroy() };
  }
  const pool = new (loadPg().Pool)({
    connectionString: config.url,
    max: options.poolSize ?? config.poolSize ?? 10,
    types: pgTypes,
    // Durability: never acknowledge before the commit is flushed, whatever the server default is.
    options: '-c synchronous_commit=on',
    connectionTimeoutMillis: 5000,
  });
  // An idle client losing its connection (server restart, failover) must not crash the process
  // (pg re-emits it on the pool, and an unhandled 'error' event would), nor go unseen: it is
  // logged, the next query gets a fresh client and /readyz reports the outage.
  const log = options.log ?? defaultPoolLog();
  pool.on('error', (err: Error & { code?: string }) => {
    log.warn({ err: { message: err.message, code: err.code } }, 'PostgreSQL connection lost while idle');
  });
  // A client checked out of the pool (in a transaction, between two queries) that loses its
  // connection emits 'error' on itself, where the pool does not listen: unhandled, it killed the
  // storage thread when PostgreSQL went down (then restarted with backoff: seconds of 503s after
  // the database was back). Its pending query fails anyway, and the pool discards the client on
  // release; this listener only keeps the error from being thrown, and logs it.
  const open = new Set<pg.PoolClient>();
  pool.on('connect', (client) => {
    open.add(client);
    client.once('end', () => open.delete(client));
    client.on('error', (err: Error & { code?: string }) => {
      log.warn({ err: { message: err.message, code: err.code } }, 'PostgreSQL connection lost');
    });
  });
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    config,
    async close() {
      await kysely.destroy();
      // pg's Pool.end() resolves once no client is checked out, while its idle clients are still
      // closing their connections. Wait for them (bounded): a database dropped WITH (FORCE) right
      // after close() — every test database — cut those still open, and the pool logged each one
      // as lost. Once a client has ended, the server has closed the session.
      const ended = [...open].map((client) => new Promise<void>((resolve) => client.once('end', () => resolve())));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(ended),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_WAIT_MS).unref();
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
