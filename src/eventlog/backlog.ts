// The pipeline's backlog, read when /metrics is scraped: how many events wait in RECEIVED (new,
// claimed or waiting for a retry) and when the oldest of them arrived. One query on the request
// thread's read connection, served by the (status, run_after, received_at) index; its cost grows
// with the backlog, not with the table.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface Backlog {
  readonly events: number;
  /** received_at of the oldest RECEIVED event (epoch ms), or null when there is none. */
  readonly oldestReceivedAt: number | null;
}

export async function readBacklog(db: Kysely<Database>): Promise<Backlog> {
  const row = await db
    .selectFrom('events')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('received_at').as('oldest')])
    .where('status', '=', 'RECEIVED')
    .executeTakeFirstOrThrow();
  return { events: Number(row.n), oldestReceivedAt: row.oldest === null ? null : Number(row.oldest) };
}
