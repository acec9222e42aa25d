// An event as partners and operators see it: the row mapped to a domain object.
import type { StoredEventRow } from '../db/schema.js';
import type { EventError, EventWarning } from './event-codes.js';

export const EVENT_STATUSES = ['RECEIVED', 'PROCESSED', 'REJECTED', 'FAILED'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export interface StoredEvent {
  readonly requestId: string;
  readonly subscriber: string;
  readonly eventType: string;
  readonly status: EventStatus;
  readonly receivedAt: number;
  readonly processedAt: number | null;
  readonly attempts: number;
  readonly dealerUuid: string | null;
  readonly errors: readonly EventError[];
  readonly warnings: readonly EventWarning[];
  /** Null once retention purged it (docs/operations.md, "Retention"). */
  readonly rawBody: string | null;
  readonly idempotencyKey: string | null;
  readonly lastError: string | null;
}

export function eventFromRow(row: StoredEventRow): StoredEvent {
  return {
    requestId: row.request_id,
    subscriber: row.username,
    eventType: row.event_type,
    status: row.status as EventStatus,
    receivedAt: row.received_at,
    processedAt: row.processed_at,
    attempts: row.attempts,
    dealerUuid: row.dealer_uuid,
    errors: JSON.parse(row.errors) as EventError[],
    warnings: JSON.parse(row.warnings) as EventWarning[],
    rawBody: row.raw_body,
    idempotencyKey: row.idempotency_key,
    lastError: row.last_error,
  };
}
