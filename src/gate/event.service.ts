// The ingestion gate (steps 2–4 of the contract) and the partner's view of an event's outcome.
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { hasScope, holdsScopeAnywhere, type Integration, type Principal, type SubscriberDirectory } from '../auth/directory.js';
import { AppError } from '../core/errors.js';
import { decodeUtf8 } from '../core/utf8.js';
import { uuidv7 as newRequestId } from '../core/uuidv7.js';
import type { Database } from '../db/schema.js';
import { eventFromRow, type StoredEvent } from '../eventlog/event.model.js';
import * as repo from '../eventlog/event.repository.js';
import { parseEventBody } from '../eventlog/event-body.js';
import { type EventType, VEHICLE_SERVICE_CHAT_SCOPE } from '../eventlog/event-types.js';
import { resolveDealer } from '../pipeline/dealer.js';
import type { StoreEventOutcome } from '../storage/group-commit.js';
import type { Storage } from '../storage/storage.js';

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export interface IngestResult {
  readonly requestId: string;
  /** True when an Idempotency-Key matched an earlier event: nothing new was stored. */
  readonly replayed: boolean;
}

export interface IngestRequest {
  readonly principal: Principal;
  readonly eventType: EventType;
  readonly body: Buffer;
  readonly idempotencyKey: string | undefined;
}

/**
 * Step 2: only partners with an active integration for this event type may send it. The route
 * runs this before the body is read; ingestEvent runs it again so the service holds its own rule.
 */
export function assertEventSource(directory: SubscriberDirectory, principal: Principal, eventType: EventType): Integration {
  const integration = directory.integrationOf(principal.username, eventType);
  if (!integration?.active || !holdsScopeAnywhere(principal, VEHICLE_SERVICE_CHAT_SCOPE)) {
    throw new AppError(
      'INVALID_EVENT_SOURCE',
      `Subscriber ${principal.username} has no active ${eventType} integration with scope ${VEHICLE_SERVICE_CHAT_SCOPE}; the event was discarded`,
    );
  }
  return integration;
}

function checkIdempotencyKey(key: string | undefined): string | null {
  if (key === undefined) return null;
  if (key.trim() === '' || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new AppError('IDEMPOTENCY_KEY_INVALID', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  return key;
}

export async function ingestEvent(
  storage: Storage,
  directory: SubscriberDirectory,
  log: FastifyBaseLogger,
  request: IngestRequest,
): Promise<IngestResult> {
  const { principal, eventType } = request;
  const integration = assertEventSource(directory, principal, eventType);
  const idempotencyKey = checkIdempotencyKey(request.idempotencyKey);
  // The stored form of the body: its UTF-8 text, byte for byte (a BOM is kept as stored).
  const text = decodeUtf8(request.body);
  const parsed = parseEventBody(text);

  // Without a transform the dealer can be resolved here: refuse a dealer the partner may not
  // write for now (403, nothing stored) rather than accept and reject it later.
  if (integration.transform === null) {
    const resolved = resolveDealer(parsed, integration, (uuid) => directory.isKnownDealer(uuid));
    if ('dealerUuid' in resolved && !hasScope(principal, VEHICLE_SERVICE_CHAT_SCOPE, resolved.dealerUuid)) {
      throw new AppError('INVALID_SCOPE_DEALER', `Subscriber lacks scope ${VEHICLE_SERVICE_CHAT_SCOPE} for dealer ${resolved.dealerUuid}`);
    }
  }

  const requestId = newRequestId();
  const receivedAt = Date.now();
  const bodySha256 = createHash('sha256').update(request.body).digest('hex');
  let outcome: StoreEventOutcome;
  try {
    // Resolves once the batch holding this row has committed: durable (synchronous=FULL /
    // synchronous_commit=on), whatever else shared the transaction.
    outcome = await storage.storeEvent(
      repo.receivedEventRow({
        requestId,
        username: principal.username,
        eventType,
        rawBody: text,
        bodySha256,
        idempotencyKey,
        receivedAt,
      }),
    );
  } catch (err) {
    // Whatever the cause, nothing was acknowledged: the partner must retry.
    log.error({ err }, 'event could not be stored');
    throw new AppError('SERVICE_UNAVAILABLE', 'The event could not be stored; nothing was acknowledged. Retry later.');
  }
  if (outcome.stored) return { requestId, replayed: false };
  if (!outcome.existing) throw new Error('idempotency conflict without a matching event');
  if (outcome.existing.bodySha256 !== bodySha256) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key was already used with a different body');
  }
  return { requestId: outcome.existing.requestId, replayed: true };
}

export interface EventStatusView {
  readonly event: StoredEvent;
  readonly record: Record<string, unknown> | null;
}

/** An event's outcome, for the subscriber that sent it only (anyone else: not found). */
export async function getEventStatus(db: Kysely<Database>, principal: Principal, requestId: string): Promise<EventStatusView> {
  const row = await repo.findEvent(db, requestId);
  if (!row || row.username !== principal.username) {
    throw new AppError('EVENT_NOT_FOUND', `No event ${requestId} from this subscriber`);
  }
  const event = eventFromRow(row);
  const record = event.status === 'PROCESSED' ? await repo.findChatSummaryRecord(db, requestId) : undefined;
  return { event, record: record === undefined ? null : (JSON.parse(record) as Record<string, unknown>) };
}
