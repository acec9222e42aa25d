// The event log. Rows are written once by the gate and then only by the pipeline.
import type { Kysely, Transaction } from 'kysely';
import type { Database, NewEventRow, StoredEventRow } from '../db/schema.js';

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
export function receivedEventRow(event: ReceivedEvent): NewEventRow {
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
 * Inserts a batch of received events: one statement for the rows, one for the bodies of those
 * stored. Returns the request ids that were stored; a row whose idempotency key this subscriber
 * already used (in the table, or earlier in the same batch) is skipped.
 */
export async function insertEvents(db: Executor, rows: readonly NewEventRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await db
    .insertInto('events')
    .values(rows.map(({ raw_body: _, ...row }) => row))
    .onConflict((oc) => oc.columns(['username', 'idempotency_key']).doNothing())
    .returning('request_id')
    .execute();
  const stored = new Set(inserted.map((r) => r.request_id));
  const bodies = rows.filter((r) => stored.has(r.request_id)).map((r) => ({ request_id: r.request_id, raw_body: r.raw_body }));
  if (bodies.length > 0) await db.insertInto('event_bodies').values(bodies).execute();
  return stored;
}

/**
 * The rows of these events with their bodies. Events without a body (purged by retention, which
 * only touches final states) are left out: callers that must process a body get only those.
 */
export async function withBodies<Row extends { request_id: string }>(
  db: Executor,
  rows: readonly Row[],
): Promise<(Row & { raw_body: string })[]> {
  if (rows.length === 0) return [];
  const bodies = await db
    .selectFrom('event_bodies')
    .select(['request_id', 'raw_body'])
    .where(
      'request_id',
      'in',
      rows.map((r) => r.request_id),
    )
    .execute();
  const byId = new Map(bodies.map((b) => [b.request_id, b.raw_body]));
  return rows.flatMap((row) => {
    const raw_body = byId.get(row.request_id);
    return raw_body === undefined ? [] : [{ ...row, raw_body }];
  });
}

export async function findByIdempotencyKey(db: Executor, username: string, key: string) {
  return db
    .selectFrom('events')
    .select(['request_id', 'body_sha256'])
    .where('username', '=', username)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
}

/** An event with its body; `raw_body` is null when retention purged it (src/pipeline/retention.ts). */
export async function findEvent(db: Executor, requestId: string): Promise<StoredEventRow | undefined> {
  return db
    .selectFrom('events')
    .leftJoin('event_bodies', 'event_bodies.request_id', 'events.request_id')
    .selectAll('events')
    .select('event_bodies.raw_body')
    .where('events.request_id', '=', requestId)
    .executeTakeFirst();
}

export async function findChatSummaryRecord(db: Executor, requestId: string): Promise<string | undefined> {
  const row = await db.selectFrom('chat_summaries').select('record').where('request_id', '=', requestId).executeTakeFirst();
  return row?.record;
}
