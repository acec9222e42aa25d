// Claims a batch of runnable events for one worker: RECEIVED, due, and not leased by a live
// worker. Claiming leases them (locked_by/locked_until) and counts an attempt. A worker that dies
// holds its batch only until the lease expires; then any worker takes it again.
import { type Kysely, sql } from 'kysely';
import type { Db, Dialect, Transact } from '../db/connect.js';
import { skipLockedRows } from '../db/dialect.js';
import type { Database, EventRow } from '../db/schema.js';
import { withBodies } from '../eventlog/event.repository.js';

export interface ClaimOptions {
  readonly workerId: string;
  readonly now: number;
  readonly limit: number;
  readonly leaseMs: number;
}

/**
 * Claims inside `transact`'s transaction when given one (the storage thread's group commit on
 * SQLite: the claim shares a commit with the gate's inserts); otherwise as one statement.
 */
export async function claimBatch(db: Db, options: ClaimOptions, transact?: Transact): Promise<EventRow[]> {
  const rows = await (transact ? transact((trx) => claimRows(trx, db.dialect, options)) : claimRows(db.kysely, db.dialect, options));
  return rows.sort((a, b) => a.run_after - b.run_after || a.received_at - b.received_at);
}

async function claimRows(kysely: Kysely<Database>, dialect: Dialect, { workerId, now, limit, leaseMs }: ClaimOptions): Promise<EventRow[]> {
  const due = skipLockedRows(
    kysely
      .selectFrom('events')
      .select('request_id')
      .where('status', '=', 'RECEIVED')
      .where('run_after', '<=', now)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .orderBy('run_after')
      .orderBy('received_at')
      .limit(limit),
    dialect,
  );
  const claimed = await kysely
    .updateTable('events')
    .set({ locked_by: workerId, locked_until: now + leaseMs, attempts: sql<number>`attempts + 1`, updated_at: now })
    .where('request_id', 'in', due)
    .returningAll()
    .execute();
  // The bodies live apart (migration 0003), so the claim rewrites only the small rows.
  const withBody = await withBodies(kysely, claimed);
  if (withBody.length < claimed.length) {
    // Retention deletes the bodies of final events only, and a replay skips events without one,
    // so this should not happen; if it does, the event cannot be processed: FAILED, not retried.
    const kept = new Set(withBody.map((e) => e.request_id));
    await kysely
      .updateTable('events')
      .set({
        status: 'FAILED',
        errors: JSON.stringify([{ errorCode: 'PROCESSING_FAILED', errorMessage: 'The event can no longer be processed' }]),
        locked_by: null,
        locked_until: null,
        last_error: 'raw body missing (purged by retention?)',
        processed_at: now,
        updated_at: now,
      })
      .where(
        'request_id',
        'in',
        claimed.filter((e) => !kept.has(e.request_id)).map((e) => e.request_id),
      )
      .execute();
  }
  return withBody;
}

/**
 * Gives back claimed events this worker will not process (it is stopping), so they need not wait
 * for the lease to expire. The attempt counted at claim time is returned too.
 */
export async function releaseClaims(db: Db, workerId: string, requestIds: readonly string[], now: number): Promise<number> {
  if (requestIds.length === 0) return 0;
  const result = await db.kysely
    .updateTable('events')
    .set({ locked_by: null, locked_until: null, attempts: sql<number>`attempts - 1`, updated_at: now })
    .where('request_id', 'in', requestIds)
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
