// How the two databases differ where the code must care: which driver errors mean what, and
// row locking for queue claims. Callers ask the question; only this file knows the answer.
import { type Kysely, PostgresAdapter, type SelectQueryBuilder, sql } from 'kysely';
import { type Dialect, SQLITE_SYNCHRONOUS, type Transact } from './connect.js';
import type { Database } from './schema.js';

/** Which database a Kysely instance talks to (migrations get no `Db`, only the instance). */
// biome-ignore lint/suspicious/noExplicitAny: any schema
export function dialectOfKysely(db: Kysely<any>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** The PostgreSQL channel on which stored (or replayed) events wake `dealer-gateway worker` processes. */
export const EVENTS_CHANNEL = 'dealer_gateway_events';

/**
 * Tells other processes that events were stored, or replayed (src/pipeline/replay.ts): either way
 * they wait in the queue. PostgreSQL: NOTIFY inside the storing transaction, delivered when (and
 * only if) it commits, once per transaction however many rows.
 * SQLite has no such channel: a separate worker process polls (WORKER_POLL_MS).
 */
export async function notifyEventsStored(trx: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') await sql`SELECT pg_notify(${EVENTS_CHANNEL}, '')`.execute(trx);
}

/**
 * Lets concurrent claimers pass each other by. PostgreSQL: FOR UPDATE SKIP LOCKED, so several
 * workers claim disjoint batches without waiting. SQLite has one writer at a time: the claiming
 * UPDATE is atomic without it (and the syntax does not exist).
 */
// biome-ignore lint/suspicious/noExplicitAny: works for any select
export function skipLockedRows<Q extends SelectQueryBuilder<any, any, any>>(qb: Q, dialect: Dialect, of?: string): Q {
  // `of`: lock only that table's rows when the query joins others (FOR UPDATE OF m).
  return dialect === 'postgres' ? ((of ? qb.forUpdate(of) : qb.forUpdate()).skipLocked() as Q) : qb;
}

/** The advisory lock key of the retention purge (src/pipeline/retention.ts): "dgrt". */
export const RETENTION_LOCK_KEY = 0x64677274;

/**
 * Takes the retention purge's lock for the rest of `trx`, or reports that another process holds
 * it. PostgreSQL: pg_try_advisory_xact_lock, released by the commit; so at most one purge batch
 * runs at a time across processes, and a process that finds it taken skips its run. SQLite has
 * one writer at a time already: always true.
 */
export async function tryRetentionLock(trx: Kysely<Database>, dialect: Dialect): Promise<boolean> {
  if (dialect !== 'postgres') return true;
  const { rows } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY}::bigint) AS ok`.execute(trx);
  return rows[0]?.ok === true;
}

/**
 * Serialises, until `trx` ends, the transactions that lock any of the same `keys`. PostgreSQL:
 * one transaction-level advisory lock per key, taken in sorted order (two transactions wanting
 * overlapping keys cannot deadlock on them). The outbox takes one per destination and dealer
 * before it inserts per-dealer messages: the second transaction waits for the first to commit,
 * so its messages' sequence numbers come after — sequence order is commit order for each dealer.
 * SQLite commits one transaction at a time already.
 */
export async function lockKeysForTransaction(trx: Kysely<Database>, keys: readonly string[]): Promise<void> {
  if (keys.length === 0 || dialectOfKysely(trx) !== 'postgres') return;
  const sorted = [...new Set(keys)].sort();
  await sql`SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM (SELECT unnest(${sorted}::text[]) AS k ORDER BY 1) AS ordered`.execute(
    trx,
  );
}

/**
 * Runs `work` in a transaction whose commit does not wait for the disk: for work whose loss in a
 * power failure costs only work done again (the sender's claims and attempt records: a lost one
 * means a message is sent once more, which at-least-once delivery allows). A crash of the process
 * loses nothing: the commit is in the operating system's hands when this returns.
 * PostgreSQL: synchronous_commit = off for this transaction only. SQLite: synchronous = NORMAL for
 * this transaction only (WAL: the commit writes the log without an fsync; the next FULL commit's
 * fsync covers it, as the log is written in order). SQLite refuses to change the level inside a
 * transaction, so the connection is held from the first PRAGMA to the last: no other statement
 * of this connection runs at the lower level.
 */
async function transactionNotWaitingForDisk<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (dialectOfKysely(db) === 'postgres') {
    return db.transaction().execute(async (trx) => {
      await sql`SET LOCAL synchronous_commit = off`.execute(trx);
      return work(trx);
    });
  }
  return db.connection().execute(async (connection) => {
    await sql`PRAGMA synchronous = NORMAL`.execute(connection);
    try {
      return await connection.transaction().execute(work);
    } finally {
      await sql.raw(`PRAGMA synchronous = ${SQLITE_SYNCHRONOUS}`).execute(connection);
    }
  });
}

/** A Transact (connect.ts) over transactions of their own: durable unless asked otherwise. */
export const ownTransaction =
  (kysely: Kysely<Database>): Transact =>
  (work, options) =>
    options?.durable === false ? transactionNotWaitingForDisk(kysely, work) : kysely.transaction().execute(work);

interface DriverError {
  code?: unknown;
}

const codeOf = (err: unknown): string => (typeof err === 'object' && err !== null ? String((err as DriverError).code ?? '') : '');

/** A unique or primary-key constraint rejected the write. */
export function isUniqueViolation(err: unknown): boolean {
  const code = codeOf(err);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const TRANSIENT_SQLITE_CODES = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
]);

/**
 * The database could not take the request right now (down, unreachable, busy, disk full) — as
 * opposed to a bug or bad data. The API answers 503 for these; the worker retries them.
 */
export function isTransientDbError(err: unknown): boolean {
  // Classified already where it happened (an error relayed from the storage thread).
  if (typeof err === 'object' && err !== null && (err as { transient?: unknown }).transient === true) return true;
  const code = codeOf(err);
  if (TRANSIENT_NODE_CODES.has(code)) return true;
  if ([...TRANSIENT_SQLITE_CODES].some((c) => code === c || code.startsWith(`${c}_`))) return true;
  // PostgreSQL SQLSTATE classes: 08 connection, 53 insufficient resources, 57 operator intervention,
  // 40001/40P01 serialization failure and deadlock.
  if (/^(08|53|57)/.test(code) || code === '40001' || code === '40P01') return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|The database connection is not open|driver has already been destroyed/.test(
    message,
  );
}
