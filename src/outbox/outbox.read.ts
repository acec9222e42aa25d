// What waits in the outbox, per destination: for the admin API's health views and the metrics read
// at scrape time. One grouped query over the messages not yet delivered.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface Backlog {
  waiting: number;
  failed: number;
  /** created_at of the oldest PENDING message (epoch ms), or null. */
  oldestWaiting: number | null;
}

/** PENDING and FAILED messages per destination (all of them, or those named). */
export async function backlogs(db: Kysely<Database>, names?: readonly string[]): Promise<Map<string, Backlog>> {
  let query = db
    .selectFrom('outbox_messages')
    .select(['destination', 'status', (eb) => eb.fn.countAll<string>().as('n'), (eb) => eb.fn.min('created_at').as('oldest')])
    .where('status', 'in', ['PENDING', 'FAILED'])
    .groupBy(['destination', 'status']);
  if (names) query = query.where('destination', 'in', names);
  const found = new Map<string, Backlog>();
  for (const row of await query.execute()) {
    const b = found.get(row.destination) ?? { waiting: 0, failed: 0, oldestWaiting: null };
    if (row.status === 'PENDING') {
      b.waiting = Number(row.n);
      b.oldestWaiting = row.oldest === null ? null : Number(row.oldest);
    } else b.failed = Number(row.n);
    found.set(row.destination, b);
  }
  return found;
}
