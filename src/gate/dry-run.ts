// Dry runs of the event pipeline: what the worker would make of a body — with the partner's
// stored integration, or with a candidate one that is not applied yet — without writing anything.
// A partner checks a payload before sending it for real; an operator checks a fix (a dealer
// mapping, a schema, a transform) against a stored event before `apply` and `replay`.
import { isDeepStrictEqual } from 'node:util';
import { Ajv, type ErrorObject } from 'ajv';
import type { Kysely } from 'kysely';
import { hasScope, type Integration, type Principal, type SubscriberDirectory } from '../auth/directory.js';
import { AppError } from '../core/errors.js';
import { fieldPath } from '../core/schema-errors.js';
import { decodeUtf8 } from '../core/utf8.js';
import type { Database, EventRow } from '../db/schema.js';
import { type EventStatus, eventFromRow } from '../eventlog/event.model.js';
import { findChatSummaryRecord, findEvent, receivedEventRow } from '../eventlog/event.repository.js';
import { parseEventBody } from '../eventlog/event-body.js';
import type { EventError, EventWarning } from '../eventlog/event-codes.js';
import { type EventType, VEHICLE_SERVICE_CHAT_SCOPE } from '../eventlog/event-types.js';
import { contextOf } from '../pipeline/assessor.js';
import { DEFAULT_DEALER_ID_FIELD, resolveDealer } from '../pipeline/dealer.js';
import { assessEvent, linkVehicles } from '../pipeline/evaluate.js';
import { compilePartnerSchema, compileTransform } from '../pipeline/rules.js';
import { type IntegrationSpec, provisioningFileSchema } from '../provisioning/provisioning.schema.js';
import { assertEventSource } from './event.service.js';

/** An integration's rules as a provisioning file gives them, without the subscriber and event type. */
export type CandidateIntegration = Omit<IntegrationSpec, 'subscriber' | 'eventType'>;

type DryRunStatus = 'PROCESSED' | 'REJECTED';

/** What the worker would store for the event; errors and warnings as the status endpoint shows them. */
export interface DryRunResult {
  readonly status: DryRunStatus;
  readonly dealerUuid: string | null;
  /** The canonical chat summary when PROCESSED, else null. */
  readonly canonical: Record<string, unknown> | null;
  readonly errors: readonly EventError[];
  readonly warnings: readonly EventWarning[];
}

export interface DryRunRequest {
  readonly username: string;
  readonly eventType: EventType;
  /** The body as the gate would store it (UTF-8 text). */
  readonly body: string;
  /** Rules to use instead of the stored integration (which may not exist yet). */
  readonly candidate?: CandidateIntegration;
  /** The receipt time an absent event_timestamp defaults to; now unless given. */
  readonly receivedAt?: number;
}

/** An event's outcome, stored or dry-run, in the terms of the status endpoint. */
export interface OutcomeView {
  readonly status: EventStatus;
  readonly errors: readonly EventError[];
  readonly warnings: readonly EventWarning[];
  readonly canonical: Record<string, unknown> | null;
}

/** A stored event: what was received, and what the pipeline made of it. */
export interface StoredOutcome extends OutcomeView {
  readonly username: string;
  readonly eventType: EventType;
  readonly rawBody: string;
  readonly receivedAt: number;
}

export interface DryRunDiff {
  readonly statusChanged: boolean;
  readonly before: OutcomeView;
  readonly after: OutcomeView;
  /** Top-level canonical fields whose values differ (a field present on one side only included). */
  readonly changedFields: string[];
}

// The candidate is checked against the provisioning file's own integration schema, so a dry run
// accepts exactly the rules `apply` would accept.
const {
  subscriber: _subscriber,
  eventType: _eventType,
  ...candidateProperties
} = provisioningFileSchema.properties.integrations.items.properties;
const validateCandidateShape = new Ajv({ allErrors: true, strict: false }).compile({
  type: 'object',
  additionalProperties: false,
  properties: candidateProperties,
});

function describeShapeError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    return `${fieldPath(error.instancePath, String(params.additionalProperty))} is not a known key`;
  }
  return `${fieldPath(error.instancePath) || '(candidate)'} ${error.message ?? 'is invalid'}`;
}

/** The problems `apply` would report for these rules (provisioning.validate.ts), unprefixed. */
function candidateProblems(candidate: unknown, isKnownDealer: (uuid: string) => boolean): string[] {
  if (!validateCandidateShape(candidate)) return (validateCandidateShape.errors ?? []).map(describeShapeError);
  const c = candidate as CandidateIntegration;
  const problems: string[] = [];
  for (const [partnerId, dealer] of Object.entries(c.dealerMap ?? {})) {
    if (!isKnownDealer(dealer)) problems.push(`dealerMap.${partnerId}: unknown dealer "${dealer}"`);
  }
  if (c.schema !== undefined && c.schema !== null) {
    try {
      compilePartnerSchema(c.schema);
    } catch (err) {
      problems.push(`schema is not a valid JSON Schema: ${(err as Error).message}`);
    }
  }
  if (typeof c.transform === 'string') {
    try {
      compileTransform(c.transform);
    } catch (err) {
      problems.push(`transform is not a valid JSONata expression: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** The candidate as the directory would hold it once applied; 400 VALIDATION_FAILED if `apply` would refuse it. */
function integrationOfCandidate(candidate: unknown, eventType: EventType, directory: SubscriberDirectory): Integration {
  const problems = candidateProblems(candidate, (uuid) => directory.isKnownDealer(uuid));
  if (problems.length > 0) {
    throw new AppError('VALIDATION_FAILED', `The candidate integration is not valid: ${problems.join('; ')}`);
  }
  const c = candidate as CandidateIntegration;
  return {
    eventType,
    active: c.active ?? true,
    dealerIdField: c.dealerIdField ?? DEFAULT_DEALER_ID_FIELD,
    dealerMap: c.dealerMap ?? {},
    // A boolean schema is valid JSON Schema; the directory holds one the same way (parsed JSON).
    schema: (c.schema ?? null) as object | null,
    transform: c.transform ?? null,
    updatedAt: Date.now(),
  };
}

/** assessEvent then linkVehicles, as the worker runs them, with `integration` in place of the stored one. */
async function runPipeline(
  db: Kysely<Database>,
  directory: SubscriberDirectory,
  integration: Integration | undefined,
  request: DryRunRequest,
): Promise<DryRunResult> {
  const ctx = { ...contextOf(db, directory), integrationOf: () => integration };
  // receivedEventRow sets every column: the row the gate would have stored, never written.
  const row = receivedEventRow({
    requestId: 'dry-run',
    username: request.username,
    eventType: request.eventType,
    rawBody: request.body,
    bodySha256: '',
    idempotencyKey: null,
    receivedAt: request.receivedAt ?? Date.now(),
  }) as EventRow;
  const [outcome] = await linkVehicles(db, [await assessEvent(ctx, row)]);
  if (outcome === undefined) throw new Error('linkVehicles returned no outcome');
  return outcome.kind === 'processed'
    ? { status: 'PROCESSED', dealerUuid: outcome.dealerUuid, canonical: outcome.record, errors: [], warnings: outcome.warnings }
    : { status: 'REJECTED', dealerUuid: outcome.dealerUuid, canonical: null, errors: outcome.errors, warnings: outcome.warnings };
}

/**
 * What the worker would make of `body` from `username`, with the stored integration or
 * `candidate`. Reads only. A body the gate would refuse (not a JSON object, …) and a candidate
 * `apply` would refuse throw the gate's 400s (AppError).
 */
export async function dryRunEvent(db: Kysely<Database>, directory: SubscriberDirectory, request: DryRunRequest): Promise<DryRunResult> {
  const integration =
    request.candidate === undefined
      ? directory.integrationOf(request.username, request.eventType)
      : integrationOfCandidate(request.candidate, request.eventType, directory);
  parseEventBody(request.body);
  return runPipeline(db, directory, integration, request);
}

/**
 * A dry run of a body sent to the gate: the gate's refusals first — event source, strict UTF-8,
 * a JSON object, the dealer scope when there is no transform (event.service.ts ingestEvent) — so
 * what the gate would refuse is refused the same way; then the stored integration's pipeline.
 */
export async function dryRunAtGate(
  db: Kysely<Database>,
  directory: SubscriberDirectory,
  principal: Principal,
  eventType: EventType,
  body: Buffer,
): Promise<DryRunResult> {
  const integration = assertEventSource(directory, principal, eventType);
  const text = decodeUtf8(body);
  const parsed = parseEventBody(text);
  // The same check as ingestEvent's: without a transform, the gate refuses an unscoped dealer (403).
  if (integration.transform === null) {
    const resolved = resolveDealer(parsed, integration, (uuid) => directory.isKnownDealer(uuid));
    if ('dealerUuid' in resolved && !hasScope(principal, VEHICLE_SERVICE_CHAT_SCOPE, resolved.dealerUuid)) {
      throw new AppError('INVALID_SCOPE_DEALER', `Subscriber lacks scope ${VEHICLE_SERVICE_CHAT_SCOPE} for dealer ${resolved.dealerUuid}`);
    }
  }
  return runPipeline(db, directory, integration, { username: principal.username, eventType, body: text });
}

const viewOf = (result: DryRunResult): OutcomeView => ({
  status: result.status,
  errors: result.errors,
  warnings: result.warnings,
  canonical: result.canonical,
});

/** What changes between two outcomes of one event: its status, and which canonical fields. */
export function diffOutcomes(before: OutcomeView, after: OutcomeView): DryRunDiff {
  const b = before.canonical ?? {};
  const a = after.canonical ?? {};
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  return {
    statusChanged: before.status !== after.status,
    before,
    after,
    changedFields: fields.filter((f) => !(Object.hasOwn(b, f) && Object.hasOwn(a, f) && isDeepStrictEqual(b[f], a[f]))),
  };
}

/** Dry-runs a stored event again (as received, at its receipt time) and compares with its stored outcome. */
export async function dryRunStoredEvent(
  db: Kysely<Database>,
  directory: SubscriberDirectory,
  stored: StoredOutcome,
  candidate?: CandidateIntegration,
): Promise<{ readonly result: DryRunResult; readonly diff: DryRunDiff }> {
  const result = await dryRunEvent(db, directory, {
    username: stored.username,
    eventType: stored.eventType,
    body: stored.rawBody,
    candidate,
    receivedAt: stored.receivedAt,
  });
  return { result, diff: diffOutcomes(stored, viewOf(result)) };
}

/** A stored event and its outcome (the canonical record when PROCESSED), or undefined. */
export async function storedOutcomeOf(db: Kysely<Database>, requestId: string): Promise<StoredOutcome | undefined> {
  const row = await findEvent(db, requestId);
  if (!row) return undefined;
  const event = eventFromRow(row);
  if (event.rawBody === null) throw new AppError('CONFLICT', `Event ${requestId} cannot be dry-run: its body was purged by retention`);
  const record = event.status === 'PROCESSED' ? await findChatSummaryRecord(db, requestId) : undefined;
  return {
    username: event.subscriber,
    eventType: event.eventType as EventType,
    rawBody: event.rawBody,
    receivedAt: event.receivedAt,
    status: event.status,
    errors: event.errors,
    warnings: event.warnings,
    canonical: record === undefined ? null : (JSON.parse(record) as Record<string, unknown>),
  };
}
