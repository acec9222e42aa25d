// Delivered messages are kept for RETENTION_BODY_DAYS (their envelope and attempt log show what a
// destination got), then deleted by the retention purge, their attempts with them (ON DELETE
// CASCADE). Dead letters (FAILED) and waiting messages stay: an operator still has to act on them.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';

/** Deletes up to `limit` messages DELIVERED before `cutoff`, oldest first; returns how many. */
export async function purgeDeliveredMessages(trx: Kysely<Database>, cutoff: number, limit: number): Promise<number> {
  // Served by the partial index outbox_delivered (migration 0008): delivered messages by time.
  const result = await trx
    .deleteFrom('outbox_messages')
    .where(
      'seq',
      'in',
      trx
        .selectFrom('outbox_messages')
        .select('seq')
        .where('status', '=', sql.lit('DELIVERED'))
        .where('delivered_at', '<', cutoff)
        .orderBy('delivered_at')
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
