// The operator's view of events: a filtered, searchable list paged newest first, the detail of
// one event (raw body, canonical record, errors, its timeline). Replays are replay.service.ts.
import type { Kysely } from 'kysely';
import { AppError } from '../core/errors.js';
import type { Database } from '../db/schema.js';
import { type EventFilter, whereEvents } from '../eventlog/event.filter.js';
import type { EventStatus } from '../eventlog/event.model.js';
import { eventFromRow } from '../eventlog/event.model.js';
import { findChatSummaryRecord, findEvent } from '../eventlog/event.repository.js';
import type { EventError, EventWarning } from '../eventlog/event-codes.js';
import { decodeCursor, encodeCursor } from './cursor.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What the list and the detail both say of an event. */
interface EventSummary {
  readonly requestId: string;
  readonly subscriber: string;
  readonly eventType: string;
  readonly status: EventStatus;
  readonly receivedAt: string;
  readonly processedAt: string | null;
  readonly attempts: number;
  readonly dealerUuid: string | null;
}

interface EventListItem extends EventSummary {
  readonly errorCodes: string[];
  readonly warningCodes: string[];
}

export interface EventPage {
  readonly items: EventListItem[];
  readonly nextCursor: string | null;
}

const codes = (json: string) =>
  (JSON.parse(json) as { errorCode?: string; warningCode?: string }[]).map((e) => e.errorCode ?? e.warningCode ?? '');

/**
 * Newest first by (received_at, request_id). The cursor is the last row's key, so a page never
 * repeats or skips an event however many arrive meanwhile: new events sort before the cursor.
 */
export async function listEvents(db: Kysely<Database>, filter: EventFilter, limit: number, cursor?: string): Promise<EventPage> {
  let q = whereEvents(
    db
      .selectFrom('events')
      .select([
        'request_id',
        'username',
        'event_type',
        'status',
        'received_at',
        'processed_at',
        'attempts',
        'dealer_uuid',
        'errors',
        'warnings',
      ]),
    filter,
    db,
  );
  if (cursor !== undefined) {
    const [receivedAt, requestId] = decodeCursor(cursor, 'ns') as [number, string];
    q = q.where((eb) =>
      eb.or([eb('received_at', '<', receivedAt), eb.and([eb('received_at', '=', receivedAt), eb('request_id', '<', requestId)])]),
    );
  }
  const rows = await q
    .orderBy('received_at', 'desc')
    .orderBy('request_id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      requestId: r.request_id,
      subscriber: r.username,
      eventType: r.event_type,
      status: r.status as EventStatus,
      receivedAt: iso(r.received_at) as string,
      processedAt: iso(r.processed_at),
      attempts: r.attempts,
      dealerUuid: r.dealer_uuid,
      errorCodes: codes(r.errors),
      warningCodes: codes(r.warnings),
    })),
    nextCursor: rows.length > limit && last ? encodeCursor([last.received_at, last.request_id]) : null,
  };
}

interface TimelineEntry {
  readonly attempt: number;
  readonly workerId: string | null;
  readonly at: string;
  readonly outcome: string;
  readonly cause: string | null;
}

export interface EventDetail extends EventSummary {
  readonly idempotencyKey: string | null;
  /** Null once retention purged it (docs/operations.md, "Retention"). */
  readonly rawBody: string | null;
  readonly canonical: Record<string, unknown> | null;
  readonly errors: readonly EventError[];
  readonly warnings: readonly EventWarning[];
  readonly lastError: string | null;
  readonly timeline: TimelineEntry[];
}

export async function getEventDetail(db: Kysely<Database>, requestId: string): Promise<EventDetail> {
  const row = await findEvent(db, requestId);
  if (!row) throw new AppError('EVENT_NOT_FOUND', `No event ${requestId}`);
  const event = eventFromRow(row);
  const record = await findChatSummaryRecord(db, requestId);
  const attempts = await db.selectFrom('event_attempts').selectAll().where('request_id', '=', requestId).orderBy('id').execute();
  return {
    requestId: event.requestId,
    subscriber: event.subscriber,
    eventType: event.eventType,
    status: event.status,
    receivedAt: iso(event.receivedAt) as string,
    processedAt: iso(event.processedAt),
    attempts: event.attempts,
    dealerUuid: event.dealerUuid,
    idempotencyKey: event.idempotencyKey,
    rawBody: event.rawBody,
    canonical: record === undefined ? null : (JSON.parse(record) as Record<string, unknown>),
    errors: event.errors,
    warnings: event.warnings,
    lastError: event.lastError,
    timeline: attempts.map((a) => ({
      attempt: a.attempt,
      workerId: a.worker_id,
      at: iso(a.at) as string,
      outcome: a.outcome,
      cause: a.cause,
    })),
  };
}
