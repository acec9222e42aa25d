// The event log. Rows are written once by the gate and then only by the pipeline.
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database, EventRow, EventsTable } from '../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface ReceivedEvent {
  readonly requestId: string;
  readonly username: string;
  readonly eventType: string;
  /** The body's UTF-8 text, byte for byte. */
  readonly rawBody: string;
  readonly bodySha256: string;
  readonly idempotencyKey: string | null;
  readonly receivedAt: number;
}

/** The row of an event the gate accepted: RECEIVED, due now, never tried. */
export function receivedEventRow(event: ReceivedEvent): Insertable<EventsTable> {
  return {
    request_id: event.requestId,
    username: event.username,
    event_type: event.eventType,
    raw_body: event.rawBody,
    body_sha256: event.bodySha256,
    idempotency_key: event.idempotencyKey,
    received_at: event.receivedAt,
    status: 'RECEIVED',
    attempts: 0,
    run_after: event.receivedAt,
    locked_by: null,
    locked_until: null,
    dealer_uuid: null,
    errors: '[]',
    warnings: '[]',
    last_error: null,
    processed_at: null,
    updated_at: event.receivedAt,
  };
}

/**
 * Inserts a batch of received events in one statement. Returns the request ids that were stored;
 * a row whose idempotency key this subscriber already used (in the table, or earlier in the same
 * batch) is skipped.
 */
export async function insertEvents(db: Executor, rows: readonly Insertable<EventsTable>[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await db
    .insertInto('events')
    .values(rows as Insertable<EventsTable>[])
    .onConflict((oc) => oc.columns(['username', 'idempotency_key']).doNothing())
    .returning('request_id')
    .execute();
  return new Set(inserted.map((r) => r.request_id));
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
