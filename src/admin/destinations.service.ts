// Destinations and their messages, for operators: definitions with their health, the secret shown
// only when created or rotated, test sends, and sending dead letters again. Every change is
// audited (secrets never are) in the transaction that makes it.
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import type { DeliveryConfig } from '../core/config.js';
import { AppError } from '../core/errors.js';
import { isUniqueViolation } from '../db/dialect.js';
import type { Database, DestinationRow, OutboxMessageRow } from '../db/schema.js';
import { destinationState } from '../delivery/delivery.repository.js';
import { type DestinationInput, destinationSpec } from '../delivery/destination.rules.js';
import { feedTokenDigest, generateFeedToken } from '../delivery/feed-token.js';
import { generateSecret, isValidSecret } from '../delivery/signature.js';
import { parseAllowedNetworks } from '../delivery/ssrf.js';
import { adfDocument } from '../outbox/adf.js';
import { ADF_CONTENT_TYPE } from '../outbox/adf-payload.js';
import {
  type Destination,
  deleteDestination,
  destinationFromRow,
  findDestinationRow,
  insertDestination,
  rotateSecret,
  setFeedToken,
  updateDestination,
} from '../outbox/destination.repository.js';
import { isOutboundType, type OutboundType } from '../outbox/outbound-types.js';
import { type Backlog, backlogs } from '../outbox/outbox.read.js';
import { envelope, newMessageId } from '../outbox/outbox.write.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

interface Health {
  readonly state: 'healthy' | 'failing' | 'breaker-open' | 'disabled';
  readonly failureStreak: number;
  readonly lastSuccessAt: string | null;
  readonly lastFailureAt: string | null;
  readonly breakerOpenUntil: string | null;
  readonly waiting: number;
  readonly failed: number;
  readonly oldestWaitingAt: string | null;
}

export type DestinationView = Destination & { readonly health: Health };

function viewOf(row: DestinationRow, backlog: Backlog | undefined, now: number): DestinationView {
  const state = destinationState(row, now);
  return {
    ...destinationFromRow(row),
    health: {
      state,
      failureStreak: row.failure_streak,
      lastSuccessAt: iso(row.last_success_at),
      lastFailureAt: iso(row.last_failure_at),
      breakerOpenUntil: iso(row.breaker_open_until),
      waiting: backlog?.waiting ?? 0,
      failed: backlog?.failed ?? 0,
      oldestWaitingAt: iso(backlog?.oldestWaiting ?? null),
    },
  };
}

async function mustFind(db: Kysely<Database>, name: string): Promise<DestinationRow> {
  const row = await findDestinationRow(db, name);
  if (!row) throw new AppError('NOT_FOUND', `No destination ${name}`);
  return row;
}

export async function listDestinationViews(db: Kysely<Database>, now = Date.now()): Promise<{ items: DestinationView[] }> {
  const rows = await db.selectFrom('destinations').selectAll().orderBy('name').execute();
  const counts = await backlogs(db);
  return { items: rows.map((row) => viewOf(row, counts.get(row.name), now)) };
}

export async function getDestinationView(db: Kysely<Database>, name: string, now = Date.now()): Promise<DestinationView> {
  const row = await mustFind(db, name);
  return viewOf(row, (await backlogs(db, [name])).get(name), now);
}

/** The operator's input as a spec to store, or a 400 listing what is wrong with it. */
function specOrRefuse(input: DestinationInput, config: DeliveryConfig, before?: DestinationRow) {
  const checked = destinationSpec(
    input,
    parseAllowedNetworks(config.allowPrivateNetworks.join(',')),
    before?.secret,
    before && before.enabled === 1,
  );
  if (!checked.ok) throw new AppError('VALIDATION_FAILED', checked.problems.join('; '));
  return checked.spec;
}

export async function createDestination(
  db: Kysely<Database>,
  input: DestinationInput,
  config: DeliveryConfig,
  actor: string,
  now = Date.now(),
): Promise<DestinationView & { secret: string; feedToken?: string }> {
  const spec = specOrRefuse(input, config);
  const feedToken = spec.kind === 'pull' ? generateFeedToken() : undefined;
  try {
    await db.transaction().execute(async (trx) => {
      const row = await insertDestination(trx, spec, now, feedToken === undefined ? null : feedTokenDigest(feedToken));
      await recordAudit(trx, [{ actor, action: 'create', entity: 'destination', key: spec.name, after: destinationFromRow(row) }], now);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `A destination named ${spec.name} exists already`);
    throw error;
  }
  const view = await getDestinationView(db, spec.name, now);
  return feedToken === undefined ? { ...view, secret: spec.secret } : { ...view, secret: spec.secret, feedToken };
}

export async function replaceDestination(
  db: Kysely<Database>,
  name: string,
  input: Omit<DestinationInput, 'name' | 'secret'>,
  config: DeliveryConfig,
  actor: string,
  now = Date.now(),
): Promise<DestinationView> {
  await db.transaction().execute(async (trx) => {
    const before = await mustFind(trx, name);
    // A kind omitted keeps the destination's; changing it would need a url or a feed token.
    const kind = input.kind ?? destinationFromRow(before).kind;
    if (kind !== before.kind) {
      throw new AppError(
        'CONFLICT',
        `Destination ${name} is a ${before.kind} destination; its kind cannot change (delete it and create it again)`,
      );
    }
    const spec = specOrRefuse({ ...input, kind, name }, config, before);
    const after = await updateDestination(trx, before, spec, now);
    await recordAudit(
      trx,
      [{ actor, action: 'update', entity: 'destination', key: name, before: destinationFromRow(before), after: destinationFromRow(after) }],
      now,
    );
  });
  return getDestinationView(db, name, now);
}

export async function setDestinationEnabled(
  db: Kysely<Database>,
  name: string,
  enabled: boolean,
  actor: string,
  now = Date.now(),
): Promise<DestinationView> {
  await db.transaction().execute(async (trx) => {
    const before = await mustFind(trx, name);
    const current = destinationFromRow(before);
    const after = await updateDestination(trx, before, { ...current, secret: before.secret, enabled }, now);
    await recordAudit(
      trx,
      [
        {
          actor,
          action: enabled ? 'enable' : 'disable',
          entity: 'destination',
          key: name,
          before: current,
          after: destinationFromRow(after),
        },
      ],
      now,
    );
  });
  return getDestinationView(db, name, now);
}

export async function removeDestination(db: Kysely<Database>, name: string, actor: string, now = Date.now()): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await mustFind(trx, name);
    await deleteDestination(trx, name);
    await recordAudit(trx, [{ actor, action: 'delete', entity: 'destination', key: name, before: destinationFromRow(before) }], now);
  });
}

/** A new secret signs at once; the old one also signs for DELIVERY_SECRET_OVERLAP_HOURS. */
export async function rotateDestinationSecret(
  db: Kysely<Database>,
  name: string,
  secret: string | undefined,
  config: DeliveryConfig,
  actor: string,
  now = Date.now(),
): Promise<DestinationView & { secret: string }> {
  if (secret !== undefined && !isValidSecret(secret)) {
    throw new AppError('VALIDATION_FAILED', 'secret: expected whsec_ followed by the base64 of 24 to 64 random bytes');
  }
  const next = secret ?? generateSecret();
  await db.transaction().execute(async (trx) => {
    const before = await mustFind(trx, name);
    await rotateSecret(trx, before, next, now + config.secretOverlapHours * 3_600_000, now);
    await recordAudit(trx, [{ actor, action: 'rotate-secret', entity: 'destination', key: name }], now);
  });
  return { ...(await getDestinationView(db, name, now)), secret: next };
}

/** A pull destination's new feed token: it opens the feed at once, the old one no longer does. */
export async function rotateFeedToken(
  db: Kysely<Database>,
  name: string,
  actor: string,
  now = Date.now(),
): Promise<DestinationView & { feedToken: string }> {
  const feedToken = generateFeedToken();
  await db.transaction().execute(async (trx) => {
    const before = await mustFind(trx, name);
    if (before.kind !== 'pull') throw new AppError('CONFLICT', `Destination ${name} is a ${before.kind} destination: it has no feed token`);
    await setFeedToken(trx, name, feedTokenDigest(feedToken), now);
    await recordAudit(trx, [{ actor, action: 'rotate-feed-token', entity: 'destination', key: name }], now);
  });
  return { ...(await getDestinationView(db, name, now)), feedToken };
}

/** Sample `data` per type for a test send: marked as a test, shaped like the real thing. */
const SAMPLE_DATA: Readonly<Record<OutboundType, Record<string, unknown>>> = {
  'chat_summary.processed': {
    test: true,
    requestId: '00000000-0000-4000-8000-000000000000',
    partner: 'test',
    eventType: 'test',
    record: {},
  },
  'event.rejected': { test: true, requestId: '00000000-0000-4000-8000-000000000000', partner: 'test', eventType: 'test', errors: [] },
  'lead.created': { test: true, prospectUuid: '00000000-0000-4000-8000-000000000000', saveCount: 1 },
  'lead.updated': { test: true, prospectUuid: '00000000-0000-4000-8000-000000000000', saveCount: 2 },
};

/** A test lead's ADF document, marked as a test in its comments and ids. */
function sampleAdf(change: 'created' | 'updated', now: number): string {
  const at = new Date(now).toISOString();
  const made = adfDocument({
    lead: {
      prospectUuid: '00000000-0000-4000-8000-000000000000',
      dealerUuid: 'test',
      customer: { uuid: 'test' },
      vehicle: { uuid: 'test', trackingId: null, topic: null, description: 'A test message from dealer-gateway: not a real lead' },
      dealerDetails: { name: null, code: null, source: 'test' },
      services: [],
      campaign: null,
      status: 'TEST',
      lastContactDate: at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      leadId: 'TEST',
      webId: null,
      leadType: 'TEST',
      updatedAt: at,
    },
    change,
    customer: { firstName: 'Test', lastName: 'Lead', email: 'test@example.com', phone: null },
    vehicle: null,
    dealer: { uuid: 'test', name: 'dealer-gateway test send' },
    partner: 'dealer-gateway',
  });
  return made.ok ? made.xml : '';
}

/** Sends one signed test message now (not through the outbox) and answers what came back. */
export async function testSend(db: Kysely<Database>, name: string, type: OutboundType | undefined, config: DeliveryConfig) {
  const destination = await mustFind(db, name);
  if (destination.kind === 'pull') {
    throw new AppError(
      'CONFLICT',
      `Destination ${name} is a pull destination: nothing is sent to it (its consumer reads GET /feeds/v1/${name})`,
    );
  }
  const chosen = type ?? (JSON.parse(destination.event_types) as OutboundType[]).find(isOutboundType) ?? 'chat_summary.processed';
  const now = Date.now();
  const message = {
    id: newMessageId(),
    source_id: 'test',
    ...(destination.format === 'adf-xml'
      ? { payload: sampleAdf(chosen === 'lead.updated' ? 'updated' : 'created', now), content_type: ADF_CONTENT_TYPE }
      : {
          payload: envelope({ type: chosen, dealerUuid: null, sourceId: 'test', data: SAMPLE_DATA[chosen] }, now),
          content_type: 'application/json',
        }),
  } as OutboxMessageRow;
  // Loaded on first use: the request thread holds no HTTP or SMTP client until an operator tests one.
  const { Dispatcher } = await import('../delivery/dispatch.js');
  const sender = new Dispatcher({
    timeoutMs: config.timeoutMs,
    perDestination: 1,
    allowed: parseAllowedNetworks(config.allowPrivateNetworks.join(',')),
    userAgent: 'dealer-gateway (test send)',
    smtpUrl: config.smtpUrl,
    smtpAllowInsecure: config.smtpAllowInsecure,
    smtpFrom: config.smtpFrom,
  });
  try {
    const record = await sender.send(destination, message);
    return {
      delivered: record.verdict === 'delivered',
      statusCode: record.statusCode,
      error: record.error,
      durationMs: Math.round(record.durationMs),
      responseBody: record.responseBody,
    };
  } finally {
    await sender.close();
  }
}
