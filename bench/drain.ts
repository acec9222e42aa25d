// The events table as the benchmark sees it from outside the service: emptied between
// scenarios, preloaded with a backlog for the worker drain, and polled until the queue is empty.
import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { uuidv7 as newRequestId } from '../src/core/uuidv7.js';
import type { Dialect } from '../src/db/connect.js';
import type { Database, NewEventRow } from '../src/db/schema.js';
import { insertEvents, receivedEventRow } from '../src/eventlog/event.repository.js';
import { CHATLY_USERNAME, chatlyBody } from './fixture.js';
import { sleep } from './processes.js';

/** Empties the events (their summaries and timelines too), so each scenario starts from the same queue. */
export async function resetEvents(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') {
    await sql`TRUNCATE chat_summaries, event_attempts, event_search, event_search_backlog, event_bodies, events`.execute(db);
  } else {
    await db.deleteFrom('chat_summaries').execute();
    await db.deleteFrom('event_attempts').execute();
    await db.deleteFrom('event_bodies').execute();
    await db.deleteFrom('events').execute();
    // The deletes left a WAL of tens of MB: checkpoint it now, so each scenario starts from an
    // empty WAL rather than copying the last one's deletions under load.
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
  }
}

export async function countReceived(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('status', '=', 'RECEIVED')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function countByStatus(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('events')
    .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

// 18 columns × 500 rows = 9000 parameters per statement, under both drivers' limits.
const ROWS_PER_INSERT = 500;
const ROWS_PER_TRANSACTION = 10_000;

/**
 * Inserts `count` RECEIVED events from `chatly`, as the gate would have stored them (same row
 * shape as src/gate/event.service.ts): distinct request ids and bodies, oldest first.
 */
export async function preloadEvents(db: Kysely<Database>, dialect: Dialect, count: number): Promise<void> {
  const start = Date.now() - count; // one millisecond apart, all runnable now
  for (let done = 0; done < count; done += ROWS_PER_TRANSACTION) {
    const end = Math.min(count, done + ROWS_PER_TRANSACTION);
    await db.transaction().execute(async (trx) => {
      for (let from = done; from < end; from += ROWS_PER_INSERT) {
        const rows: NewEventRow[] = [];
        for (let i = from; i < Math.min(end, from + ROWS_PER_INSERT); i++) {
          const receivedAt = start + i;
          const body = chatlyBody(i, receivedAt);
          rows.push(
            receivedEventRow({
              requestId: newRequestId(receivedAt),
              username: CHATLY_USERNAME,
              eventType: 'vehicle-service-chat',
              rawBody: body,
              bodySha256: createHash('sha256').update(body).digest('hex'),
              idempotencyKey: null,
              receivedAt,
            }),
          );
        }
        await insertEvents(trx, rows);
      }
    });
  }
  // A backlog that built up over time would have been analyzed by autovacuum by now; planner
  // statistics from an empty table would misjudge the claim query.
  if (dialect === 'postgres') await sql`ANALYZE events`.execute(db);
}

export interface DrainTrace {
  /** Whether the queue emptied before the timeout. */
  readonly drained: boolean;
  /** Seconds from the call until no event was RECEIVED (or until the timeout). */
  readonly seconds: number;
  /** Seconds from the first poll that saw progress until empty, and the events left at that poll. */
  readonly firstProgressAt: number | null;
  readonly leftAtFirstProgress: number | null;
  readonly leftAtEnd: number;
}

/**
 * Polls every 250 ms until no event is RECEIVED, `timeoutMs` passes, or `gone()` says the
 * process doing the work has exited. `initial` (the backlog at the call) marks first progress.
 */
export async function waitUntilDrained(
  db: Kysely<Database>,
  timeoutMs: number,
  options: { readonly initial?: number; readonly gone?: () => boolean } = {},
): Promise<DrainTrace> {
  const { initial, gone } = options;
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  let firstProgressAt: number | null = null;
  let leftAtFirstProgress: number | null = null;
  for (;;) {
    const left = await countReceived(db);
    if (firstProgressAt === null && initial !== undefined && left < initial) {
      firstProgressAt = elapsed();
      leftAtFirstProgress = left;
    }
    if (left === 0) return { drained: true, seconds: elapsed(), firstProgressAt, leftAtFirstProgress, leftAtEnd: 0 };
    if (performance.now() - t0 >= timeoutMs || gone?.())
      return { drained: false, seconds: elapsed(), firstProgressAt, leftAtFirstProgress, leftAtEnd: left };
    await sleep(250);
  }
}
