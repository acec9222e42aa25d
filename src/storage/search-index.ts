// The full-text index of raw bodies is built behind the gate (migration 0006): stored bodies are
// queued in event_search_backlog by a trigger and tokenized here, in chunks, by the storage
// thread — into SQLite's FTS5 table, or PostgreSQL's event_search table of tsvectors.
import { type Kysely, sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { dialectOfKysely, isTransientDbError, ownTransaction } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import type { GroupCommitter } from './group-commit.js';

/** Indexes up to `limit` queued bodies, oldest first; returns how many left the backlog. */
export async function indexBacklog(trx: Kysely<Database>, limit: number): Promise<number> {
  if (dialectOfKysely(trx) === 'postgres') {
    // Several API nodes may index at once: each takes rows the others have not locked.
    const { rows } = await sql<{ n: number }>`
      WITH taken AS (
        DELETE FROM event_search_backlog WHERE request_id IN (
          SELECT request_id FROM event_search_backlog ORDER BY request_id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING request_id),
      indexed AS (
        INSERT INTO event_search (request_id, doc)
        SELECT b.request_id, to_tsvector('simple', b.raw_body) FROM event_bodies b JOIN taken USING (request_id)
        ON CONFLICT (request_id) DO UPDATE SET doc = excluded.doc
        RETURNING 1)
      SELECT count(*)::int AS n FROM taken`.execute(trx);
    return Number(rows[0]?.n ?? 0);
  }
  // One writer (the caller's transaction): both statements see the same first `limit` rows.
  await sql`INSERT INTO event_search(rowid, raw_body)
    SELECT b.rowid, b.raw_body FROM event_bodies b
    JOIN (SELECT body_rowid FROM event_search_backlog ORDER BY body_rowid LIMIT ${limit}) q ON q.body_rowid = b.rowid`.execute(trx);
  const removed = await sql`DELETE FROM event_search_backlog
    WHERE body_rowid IN (SELECT body_rowid FROM event_search_backlog ORDER BY body_rowid LIMIT ${limit})`.execute(trx);
  return Number(removed.numAffectedRows ?? 0);
}

export async function backlogSize(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM event_search_backlog`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * The indexer of a write path (the storage thread's, or an inline one). On SQLite its chunks ride
 * in the group commit (the one writer); on PostgreSQL they take their own transaction, so no gate
 * batch waits behind one.
 */
export function searchIndexerFor(db: Db, committer: GroupCommitter, log?: IndexerLog): SearchIndexer {
  const transact =
    db.dialect === 'sqlite' ? <T>(work: (trx: Kysely<Database>) => Promise<T>) => committer.transact(work) : ownTransaction(db.kysely);
  // A database that is down or full is an outage the operator sees elsewhere too (503s, /readyz):
  // a warning; anything else is a bug or a corrupt index: an error.
  const onError = (err: unknown) =>
    log?.[isTransientDbError(err) ? 'warn' : 'error']({ err }, 'could not index event bodies for search; retrying with backoff');
  return new SearchIndexer({ transact, gateBusy: () => committer.gateBusy, onError, maxBacklog: MAX_BACKLOG[db.dialect] });
}

/**
 * How many queued bodies a search may have to read directly before indexing goes on under load.
 * Indexing under load costs the gate its p99: in `npm run bench`, SQLite with the worker off on a
 * database with FTS churn, 9 390 req/s at p99 20 ms without it against 7 550–8 960 at 69–107 ms
 * with it (FTS5 merging segments inside the chunks). Reading the queue is cheap on SQLite (a
 * substring scan: 100 000 queued bodies, 70–90 ms per search) and dear on PostgreSQL (each body
 * tokenized on the spot: 100 000 in 4.8 s). So SQLite absorbs bursts of 200 000 events without
 * indexing; PostgreSQL keeps searches near a second.
 */
const MAX_BACKLOG: Record<Db['dialect'], number> = { sqlite: 200_000, postgres: 20_000 };

export interface IndexerLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SearchIndexerOptions {
  /** Runs work in the next write transaction (the storage thread's group commit). */
  readonly transact: <T>(work: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;
  /** Whether requests are waiting to be written: indexing then waits, unless the backlog is too long. */
  readonly gateBusy: () => boolean;
  /** The first failure of a streak (later ones wait, with backoff, without a report). */
  readonly onError: (err: unknown) => void;
  /** Bodies per transaction while the gate is quiet (default 500: ~25 ms of SQLite's writer). */
  readonly chunk?: number;
  /**
   * Bodies per transaction while the gate is busy and the backlog past its bound (default 50,
   * ~2–3 ms of SQLite's writer): on SQLite a chunk rides in a gate batch's transaction and delays
   * that batch's answers by its length. (At 50 connections the p99 measured the same with 500:
   * 25–26 ms either way, `WORKER_ENABLED=false npm run bench:cpu`; the bound is for larger bodies.)
   */
  readonly busyChunk?: number;
  /**
   * Past this many queued bodies, chunks are indexed even while the gate is busy (default 20 000;
   * searchIndexerFor sets it per database): search reads the backlog itself, so it must stay short.
   */
  readonly maxBacklog?: number;
}

/**
 * Keeps the backlog short without taking the writer from the gate: big chunks whenever the gate
 * is quiet, and small ones, back to back, while the backlog is past its bound under load.
 */
export class SearchIndexer {
  /** Bodies believed queued. At start unknown: 1 ("maybe some") makes the first tick look. */
  private backlog = 1;
  private running = false;
  private stopped = false;
  /** Consecutive failed chunks (the database down, a full disk): each doubles the pause. */
  private failures = 0;
  private pausedUntil = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly chunk: number;
  private readonly busyChunk: number;
  private readonly maxBacklog: number;

  constructor(private readonly options: SearchIndexerOptions) {
    this.chunk = options.chunk ?? 500;
    this.busyChunk = options.busyChunk ?? 50;
    this.maxBacklog = options.maxBacklog ?? 20_000;
    // A gate under load keeps the writer busy; a tick every 50 ms asks whether it still is.
    this.timer = setInterval(() => this.kick(), 50);
    this.timer.unref();
  }

  /** Bodies were stored (each one joins the backlog by the insert trigger). */
  stored(count: number): void {
    this.backlog += count;
  }

  get queued(): number {
    return this.backlog;
  }

  /** Waits for a chunk being indexed, and indexes no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    while (this.running) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  private kick(): void {
    if (this.running || this.stopped || this.backlog === 0 || Date.now() < this.pausedUntil) return;
    const busy = this.options.gateBusy();
    if (busy && this.backlog <= this.maxBacklog) return;
    const chunk = busy ? this.busyChunk : this.chunk;
    this.running = true;
    this.options
      .transact((trx) => indexBacklog(trx, chunk))
      .then(
        (indexed) => {
          // Fewer than a chunk: the backlog is empty (bodies purged meanwhile left it too). A full
          // chunk: there may be more, whatever the count said.
          this.backlog = indexed < chunk ? 0 : Math.max(1, this.backlog - indexed);
          this.failures = 0;
        },
        (err: unknown) => {
          // Reported once per outage, then retried after 1 s, 2 s, 4 s … 30 s: a database that
          // is down must not cost a log line and a failed transaction every tick.
          if (this.failures === 0) this.options.onError(err);
          this.failures++;
          this.pausedUntil = Date.now() + Math.min(30_000, 1000 * 2 ** (this.failures - 1));
        },
      )
      .finally(() => {
        this.running = false;
        // Still quiet (or still too long): go on at once rather than at the next tick.
        if (this.backlog > 0 && this.failures === 0) setImmediate(() => this.kick());
      });
  }
}
