// The outbox's messages, for operators: lists by filter, one message with its attempt log, and
// sending dead letters again — one, every one matching a filter, or a destination's since T.
// A message sent again starts its destination's schedule afresh (its earlier attempts stay in
// the log).
import type { Kysely, SelectQueryBuilder } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import { AppError } from '../core/errors.js';
import { inChunks } from '../db/chunks.js';
import type { Database, OutboxMessageRow } from '../db/schema.js';

export interface MessageFilter {
  readonly destination?: string;
  readonly status?: 'PENDING' | 'DELIVERED' | 'FAILED';
  readonly type?: string;
  readonly dealer?: string;
  readonly source?: string;
  readonly since?: string;
  readonly until?: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function messageView(row: OutboxMessageRow) {
  return {
    id: row.id,
    destination: row.destination,
    type: row.event_type,
    dealerUuid: row.dealer_uuid,
    sourceId: row.source_id,
    status: row.status,
    attempts: row.attempts,
    createdAt: new Date(row.created_at).toISOString(),
    nextAttemptAt: row.status === 'PENDING' ? iso(row.next_attempt_at) : null,
    deliveredAt: iso(row.delivered_at),
    lastError: row.last_error,
  };
}

function filtered<O>(query: SelectQueryBuilder<Database, 'outbox_messages', O>, filter: MessageFilter) {
  let q = query;
  if (filter.destination !== undefined) q = q.where('destination', '=', filter.destination);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  if (filter.type !== undefined) q = q.where('event_type', '=', filter.type);
  if (filter.dealer !== undefined) q = q.where('dealer_uuid', '=', filter.dealer);
  if (filter.source !== undefined) q = q.where('source_id', '=', filter.source);
  if (filter.since !== undefined) q = q.where('created_at', '>=', Date.parse(filter.since));
  if (filter.until !== undefined) q = q.where('created_at', '<', Date.parse(filter.until));
  return q;
}

/** Newest first, by `seq`; `cursor` is the last page's nextCursor. */
export async function listMessages(db: Kysely<Database>, filter: MessageFilter, limit: number, cursor?: string) {
  let query = filtered(db.selectFrom('outbox_messages').selectAll(), filter);
  if (cursor !== undefined) query = query.where('seq', '<', Number(cursor));
  const rows = await query
    .orderBy('seq', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(messageView), nextCursor: rows.length > limit && last ? String(last.seq) : null };
}

export async function getMessage(db: Kysely<Database>, id: string) {
  const row = await db.selectFrom('outbox_messages').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new AppError('NOT_FOUND', `No message ${id}`);
  const attempts = await db.selectFrom('delivery_attempts').selectAll().where('message_id', '=', id).orderBy('id').execute();
  return {
    ...messageView(row),
    contentType: row.content_type,
    // An ADF document is XML, shown as the text sent; the envelope is shown as the JSON it is.
    payload: row.content_type === 'application/json' ? (JSON.parse(row.payload) as unknown) : row.payload,
    attemptLog: attempts.map((a) => ({
      attempt: a.attempt,
      at: new Date(a.at).toISOString(),
      durationMs: a.duration_ms,
      statusCode: a.status_code,
      responseHeaders: a.response_headers === null ? null : (JSON.parse(a.response_headers) as Record<string, string>),
      responseBody: a.response_body,
      error: a.error,
    })),
  };
}

/** FAILED messages matching `filter` back to PENDING, due now, their schedule started afresh. */
async function retryWhere(db: Kysely<Database>, filter: MessageFilter, audit: { actor: string; key: string; now: number }) {
  return db.transaction().execute(async (trx) => {
    const ids = (await filtered(trx.selectFrom('outbox_messages').select('id'), { ...filter, status: 'FAILED' }).execute()).map(
      (r) => r.id,
    );
    let retried = 0;
    for (const chunk of inChunks(ids)) {
      const result = await trx
        .updateTable('outbox_messages')
        .set({ status: 'PENDING', attempts: 0, next_attempt_at: audit.now, locked_by: null, locked_until: null })
        .where('id', 'in', chunk)
        .where('status', '=', 'FAILED')
        .executeTakeFirst();
      retried += Number(result.numUpdatedRows);
    }
    await recordAudit(
      trx,
      [{ actor: audit.actor, action: 'retry', entity: 'message', key: audit.key, after: { filter, retried } }],
      audit.now,
    );
    return { retried };
  });
}

export async function retryMessage(db: Kysely<Database>, id: string, actor: string, now = Date.now()) {
  const row = await db.selectFrom('outbox_messages').select('status').where('id', '=', id).executeTakeFirst();
  if (!row) throw new AppError('NOT_FOUND', `No message ${id}`);
  if (row.status !== 'FAILED') throw new AppError('CONFLICT', `Message ${id} is ${row.status}: only FAILED messages are sent again`);
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('outbox_messages')
      .set({ status: 'PENDING', attempts: 0, next_attempt_at: now, locked_by: null, locked_until: null })
      .where('id', '=', id)
      .execute();
    await recordAudit(trx, [{ actor, action: 'retry', entity: 'message', key: id }], now);
  });
  return getMessage(db, id);
}

export const retryMessages = (db: Kysely<Database>, filter: MessageFilter, actor: string, now = Date.now()) =>
  retryWhere(db, filter, { actor, key: '*', now });

/** "Recover since T": every dead letter of one destination created since then. */
export async function recoverDestination(db: Kysely<Database>, name: string, since: string, actor: string, now = Date.now()) {
  const exists = await db.selectFrom('destinations').select('name').where('name', '=', name).executeTakeFirst();
  if (!exists) throw new AppError('NOT_FOUND', `No destination ${name}`);
  return retryWhere(db, { destination: name, since }, { actor, key: name, now });
}
