// Steps 1–4 of the pipeline for one event, with the integration's current rules: partner schema,
// transformation, dealer resolution and scope, timestamp default, canonical validation, vehicle
// linking. Reads only; the caller stores the outcome. Every problem found is reported, not just
// the first, so a partner can fix an event in one go.
import type { Kysely } from 'kysely';
import { hasScope, type Integration, type Principal } from '../auth/directory.js';
import { describeValidationError } from '../core/schema-errors.js';
import { unknownFieldMessages } from '../core/unknown-fields.js';
import type { Database, EventRow } from '../db/schema.js';
import { parseEventText } from '../eventlog/event-body.js';
import type { EventError, EventWarning } from '../eventlog/event-codes.js';
import { VEHICLE_SERVICE_CHAT_SCOPE } from '../eventlog/event-types.js';
import { type CanonicalRecord, canonicalProblems, pickCanonical } from './canonical.js';
import { resolveDealer } from './dealer.js';
import { compilePartnerSchema, compileTransform } from './rules.js';
import { resolveEventTimestamp } from './timestamp.js';
import { hasValidCheckDigit, VIN_PATTERN } from './vin.js';

export interface EvaluationContext {
  readonly db: Kysely<Database>;
  integrationOf(username: string, eventType: string): Integration | undefined;
  principalOf(username: string): Principal | undefined;
  isKnownDealer(uuid: string): boolean;
}

export type Outcome =
  | {
      readonly kind: 'processed';
      readonly dealerUuid: string;
      readonly record: CanonicalRecord;
      readonly vehicleUuid: string | null;
      readonly customerUuid: string | null;
      readonly warnings: EventWarning[];
    }
  | { readonly kind: 'rejected'; readonly dealerUuid: string | null; readonly errors: EventError[]; readonly warnings: EventWarning[] };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

async function transform(integration: Integration, raw: Record<string, unknown>): Promise<Record<string, unknown> | EventError> {
  if (integration.transform === null) return raw;
  let result: unknown;
  try {
    result = await compileTransform(integration.transform).evaluate(raw);
  } catch (err) {
    const e = err as { message?: string; position?: number };
    const where = e.position !== undefined ? ` at position ${e.position}` : '';
    return { errorCode: 'TRANSFORM_FAILED', errorMessage: `The integration's transformation failed${where}: ${e.message ?? 'error'}` };
  }
  // JSONata returns its own sequence arrays and may leave undefined members: keep plain JSON.
  const plain: unknown = result === undefined ? undefined : JSON.parse(JSON.stringify(result));
  if (!isPlainObject(plain)) {
    return { errorCode: 'TRANSFORM_FAILED', errorMessage: "The integration's transformation did not produce a JSON object" };
  }
  return plain;
}

/**
 * An event that passed every check and waits for its vehicle link: the link needs the vehicles
 * table, looked up for a whole batch at once (linkVehicles) — two queries per batch instead of
 * one or two round trips per event.
 */
export interface Assessed {
  readonly kind: 'assessed';
  readonly dealerUuid: string;
  readonly record: CanonicalRecord;
  readonly warnings: EventWarning[];
  /** The VIN to link by (upper-cased), when the record names one. */
  readonly vin: string | null;
  readonly vehicleUuid: string | null;
}

type Rejected = Extract<Outcome, { kind: 'rejected' }>;

function linkRequest(dealerUuid: string, record: CanonicalRecord, warnings: EventWarning[]): Assessed {
  const vin = typeof record.vin === 'string' && record.vin !== '' ? record.vin.toUpperCase() : null;
  const vehicleUuid = typeof record.vehicle_uuid === 'string' && record.vehicle_uuid !== '' ? record.vehicle_uuid : null;
  if (vin !== null && !VIN_PATTERN.test(vin)) {
    warnings.push({ warningCode: 'INVALID_VIN', warningMessage: `VIN ${vin} is not 17 characters of A–Z (no I, O, Q) and 0–9` });
  } else if (vin !== null && !hasValidCheckDigit(vin)) {
    warnings.push({ warningCode: 'INVALID_VIN_CHECK_DIGIT', warningMessage: `VIN ${vin} has an invalid check digit (position 9)` });
  }
  return { kind: 'assessed', dealerUuid, record, warnings, vin, vehicleUuid };
}

interface VehicleRow {
  readonly uuid: string;
  readonly customer_uuid: string;
  readonly dealer_uuid: string;
  readonly vin: string | null;
}

async function findVehicles(db: Kysely<Database>, assessed: readonly Assessed[]): Promise<VehicleRow[]> {
  const uuids = [...new Set(assessed.flatMap((a) => (a.vehicleUuid === null ? [] : [a.vehicleUuid])))];
  const withVin = assessed.filter((a) => a.vin !== null);
  const vins = [...new Set(withVin.map((a) => a.vin as string))];
  const dealers = [...new Set(withVin.map((a) => a.dealerUuid))];
  const columns = ['uuid', 'customer_uuid', 'dealer_uuid', 'vin'] as const;
  const [byUuid, byVin] = await Promise.all([
    uuids.length === 0 ? [] : db.selectFrom('vehicles').select(columns).where('uuid', 'in', uuids).execute(),
    // (dealer_uuid, vin) is indexed: both lists, then exact pairs are matched below.
    vins.length === 0
      ? []
      : db.selectFrom('vehicles').select(columns).where('dealer_uuid', 'in', dealers).where('vin', 'in', vins).execute(),
  ]);
  return [...byUuid, ...byVin];
}

/** Links each assessed event to its dealer's vehicle, by vehicle_uuid and VIN, for a whole batch. */
export async function linkVehicles(db: Kysely<Database>, batch: readonly (Assessed | Rejected)[]): Promise<Outcome[]> {
  const assessed = batch.filter((b): b is Assessed => b.kind === 'assessed');
  const vehicles = assessed.length === 0 ? [] : await findVehicles(db, assessed);
  const byUuid = new Map(vehicles.map((v) => [`${v.dealer_uuid}\0${v.uuid}`, v]));
  const byVin = new Map(vehicles.filter((v) => v.vin !== null).map((v) => [`${v.dealer_uuid}\0${v.vin}`, v]));
  return batch.map((b) => {
    if (b.kind === 'rejected') return b;
    const { dealerUuid, vin, vehicleUuid, warnings } = b;
    const uuidMatch = vehicleUuid === null ? undefined : byUuid.get(`${dealerUuid}\0${vehicleUuid}`);
    const vinMatch = vin === null ? undefined : byVin.get(`${dealerUuid}\0${vin}`);
    if (vehicleUuid !== null && !uuidMatch) {
      warnings.push({
        warningCode: 'UNKNOWN_VEHICLE',
        warningMessage: `vehicle_uuid ${vehicleUuid} is not a vehicle of dealer ${dealerUuid}`,
      });
    }
    if (vin !== null && !vinMatch) {
      warnings.push({ warningCode: 'UNKNOWN_VIN', warningMessage: `No vehicle of dealer ${dealerUuid} has VIN ${vin}` });
    }
    if (uuidMatch && vinMatch && uuidMatch.uuid !== vinMatch.uuid) {
      warnings.push({
        warningCode: 'VEHICLE_VIN_MISMATCH',
        warningMessage: `vehicle_uuid ${uuidMatch.uuid} and VIN ${vin} name different vehicles; linked by vehicle_uuid`,
      });
    }
    const linked = uuidMatch ?? vinMatch;
    return {
      kind: 'processed',
      dealerUuid,
      record: b.record,
      vehicleUuid: linked?.uuid ?? null,
      customerUuid: linked?.customer_uuid ?? null,
      warnings,
    };
  });
}

/** One event, start to finish (tests and one-off callers; the worker assesses and links batches). */
export async function evaluateEvent(ctx: EvaluationContext, event: EventRow): Promise<Outcome> {
  const [outcome] = await linkVehicles(ctx.db, [await assessEvent(ctx, event)]);
  return outcome as Outcome;
}

/** Steps 1–4 for one event, everything but the vehicle link: reads no table. */
export async function assessEvent(ctx: EvaluationContext, event: EventRow): Promise<Assessed | Rejected> {
  const errors: EventError[] = [];
  const warnings: EventWarning[] = [];
  const rejected = (dealerUuid: string | null = null): Rejected => ({ kind: 'rejected', dealerUuid, errors, warnings });

  const integration = ctx.integrationOf(event.username, event.event_type);
  const principal = ctx.principalOf(event.username);
  if (!integration?.active || !principal) {
    errors.push({
      errorCode: 'INTEGRATION_INACTIVE',
      errorMessage: `Subscriber ${event.username} has no active ${event.event_type} integration`,
    });
    return rejected();
  }

  const raw = parseEventText(event.raw_body) as Record<string, unknown>; // the gate stored only JSON objects

  if (integration.schema !== null) {
    const validate = compilePartnerSchema(integration.schema);
    if (!validate(raw)) {
      for (const e of validate.errors ?? []) {
        errors.push({ errorCode: 'SCHEMA_VIOLATION', errorMessage: describeValidationError(e, 'body') });
      }
    }
  }

  const transformed = await transform(integration, raw);
  if ('errorCode' in transformed) {
    errors.push(transformed as EventError);
    return rejected();
  }

  const dealer = resolveDealer(transformed, integration, (uuid) => ctx.isKnownDealer(uuid));
  const dealerUuid = 'dealerUuid' in dealer ? dealer.dealerUuid : null;
  if ('error' in dealer) errors.push(dealer.error);
  else if (!hasScope(principal, VEHICLE_SERVICE_CHAT_SCOPE, dealer.dealerUuid)) {
    errors.push({
      errorCode: 'INVALID_SCOPE_DEALER',
      errorMessage: `Subscriber lacks scope ${VEHICLE_SERVICE_CHAT_SCOPE} for dealer ${dealer.dealerUuid}`,
    });
  }

  const timestamp = resolveEventTimestamp(transformed.event_timestamp, event.received_at);
  if ('error' in timestamp) errors.push(timestamp.error);

  // The partner's dealer field, when it is not dealer_uuid itself, is consumed here: not "unknown".
  const dealerField = integration.dealerIdField.split('.')[0] as string;
  const { record, dropped } = pickCanonical(transformed);
  const unknown = dropped.filter((path) => path !== dealerField && !path.startsWith(`${dealerField}.`));
  for (const warningMessage of unknownFieldMessages(unknown, 'the chat summary')) {
    warnings.push({ warningCode: 'UNKNOWN_FIELD', warningMessage });
  }

  const canonical = {
    ...record,
    dealer_uuid: dealerUuid ?? '(unresolved)',
    event_timestamp: 'timestamp' in timestamp ? timestamp.timestamp : event.received_at,
  } as CanonicalRecord;
  errors.push(...canonicalProblems(canonical));
  if (errors.length > 0 || dealerUuid === null) return rejected(dealerUuid);

  return linkRequest(dealerUuid, canonical, warnings);
}
