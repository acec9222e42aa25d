// Transient failures (the database, a bug) are retried with capped exponential backoff:
// 1 s, 2 s, 4 s … capped at 5 min, ±20 % jitter so a burst of failures does not retry in
// lockstep. With the default 10 attempts an event keeps trying for about 8.5 minutes (1 + 2 + … +
// 256 s) — long enough to ride out a database restart — then becomes FAILED for an operator to
// replay.
import type { Kysely } from 'kysely';
import type { Database, EventRow } from '../db/schema.js';
import type { EventError } from '../eventlog/event-codes.js';

const BASE_MS = 1000;
const CAP_MS = 5 * 60 * 1000;

export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const exponential = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

export type RetryDecision = { readonly kind: 'retry'; readonly runAfter: number } | { readonly kind: 'failed' };

export async function recordFailure(
  db: Kysely<Database>,
  event: EventRow,
  workerId: string,
  detail: string,
  now: number,
  maxAttempts: number,
): Promise<RetryDecision> {
  // Only while this worker holds the lease; the timeline entry is written with the update.
  const leased = (trx: Kysely<Database>) =>
    trx.updateTable('events').where('request_id', '=', event.request_id).where('locked_by', '=', workerId);
  if (event.attempts >= maxAttempts) {
    const errors: EventError[] = [
      {
        errorCode: 'PROCESSING_FAILED',
        errorMessage: `Processing failed ${event.attempts} times on our side; the event is kept and will be replayed once the cause is fixed`,
      },
    ];
    await db.transaction().execute(async (trx) => {
      const written = await leased(trx)
        .set({
          status: 'FAILED',
          errors: JSON.stringify(errors),
          last_error: detail,
          processed_at: now,
          locked_by: null,
          locked_until: null,
          updated_at: now,
        })
        .executeTakeFirst();
      if (written.numUpdatedRows > 0n) await timeline(trx, event, workerId, now, 'FAILED', detail);
    });
    return { kind: 'failed' };
  }
  const runAfter = now + backoffMs(event.attempts);
  await db.transaction().execute(async (trx) => {
    const written = await leased(trx)
      .set({ run_after: runAfter, last_error: detail, locked_by: null, locked_until: null, updated_at: now })
      .executeTakeFirst();
    if (written.numUpdatedRows > 0n) await timeline(trx, event, workerId, now, 'RETRY', detail);
  });
  return { kind: 'retry', runAfter };
}

/** The event's timeline entry for this attempt (read by operators in the admin API). */
function timeline(trx: Kysely<Database>, event: EventRow, workerId: string, now: number, outcome: 'RETRY' | 'FAILED', cause: string) {
  return trx
    .insertInto('event_attempts')
    .values({ request_id: event.request_id, attempt: event.attempts, worker_id: workerId, at: now, outcome, cause })
    .execute();
}
