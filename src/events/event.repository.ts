// The event log. Rows are written once by the gate and then only by the pipeline.
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database, EventRow, EventsTable } from '../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * Inserts a received event. With an idempotency key already used by this subscriber nothing is
 * inserted and false is returned (the unique constraint decides, so concurrent retries agree).
 */
export async function insertEvent(db: Executor, row: Insertable<EventsTable>): Promise<boolean> {
  const inserted = await db
    .insertInto('events')
    .values(row)
    .onConflict((oc) => oc.columns(['username', 'idempotency_key']).doNothing())
    .returning('request_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findByIdempotencyKey(db: Executor, username: string, key: string) {
  return db
    .selectFrom('events')
    .select(['request_id', 'body_sha256'])
    .where('username', '=', username)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
}

export async function findEvent(db: Executor, requestId: string): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('request_id', '=', requestId).executeTakeFirst();
}

export async function findChatSummaryRecord(db: Executor, requestId: string): Promise<string | undefined> {
  const row = await db.selectFrom('chat_summaries').select('record').where('request_id', '=', requestId).executeTakeFirst();
  return row?.record;
}
