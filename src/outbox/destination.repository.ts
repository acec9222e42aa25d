// Destinations: rows mapped to what the outbox, the sender and the admin API use. The secret
// leaves this file only through `signingSecrets` (the sender) and the answers that show it once.
import type { Kysely, Transaction } from 'kysely';
import type { Database, DestinationRow } from '../db/schema.js';
import type { OutboundType } from './outbound-types.js';

type Executor = Kysely<Database> | Transaction<Database>;

export type Ordering = 'none' | 'per-dealer';

/** webhook: sent to its url; pull: read by its consumer from GET /feeds/v1/{name}; email: mailed to its recipients. */
export type DestinationKind = 'webhook' | 'pull' | 'email';

/** json: the webhook envelope; adf-xml: leads as ADF 1.0 documents (what dealer CRMs read). */
export type DestinationFormat = 'json' | 'adf-xml';

const KINDS: readonly DestinationKind[] = ['webhook', 'pull', 'email'];

export interface Destination {
  readonly name: string;
  readonly kind: DestinationKind;
  /** null for a pull or email destination */
  readonly url: string | null;
  readonly format: DestinationFormat;
  /** email: the recipients; null otherwise */
  readonly to: readonly string[] | null;
  readonly eventTypes: readonly OutboundType[];
  readonly dealers: '*' | readonly string[];
  readonly ordering: Ordering;
  /** Delays in seconds (attempt 1 at the first entry); null: the default schedule. */
  readonly retrySchedule: readonly number[] | null;
  /** Requests per second at most; null: no limit. */
  readonly rateLimit: number | null;
  readonly enabled: boolean;
  /** Why it was disabled (an operator, `410 Gone`, failing too long); null while enabled. */
  readonly disabledReason: string | null;
  /** Until when the secret before the last rotation also signs (ISO-8601), or null. */
  readonly previousSecretUntil: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function destinationFromRow(row: DestinationRow): Destination {
  return {
    name: row.name,
    kind: KINDS.find((k) => k === row.kind) ?? 'webhook',
    url: row.url,
    format: row.format === 'adf-xml' ? 'adf-xml' : 'json',
    to: row.email_to === null ? null : (JSON.parse(row.email_to) as string[]),
    eventTypes: JSON.parse(row.event_types) as OutboundType[],
    dealers: JSON.parse(row.dealers) as '*' | string[],
    ordering: row.ordering === 'per-dealer' ? 'per-dealer' : 'none',
    retrySchedule: row.retry_schedule === null ? null : (JSON.parse(row.retry_schedule) as number[]),
    rateLimit: row.rate_limit,
    enabled: row.enabled === 1,
    disabledReason: row.disabled_reason,
    previousSecretUntil: row.previous_secret_until === null ? null : new Date(row.previous_secret_until).toISOString(),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The secrets that sign a message sent at `now`: the current one, and the previous one during its overlap. */
export function signingSecrets(row: DestinationRow, now: number): string[] {
  const overlap = row.previous_secret !== null && row.previous_secret_until !== null && now < row.previous_secret_until;
  return overlap ? [row.secret, row.previous_secret as string] : [row.secret];
}

export async function listDestinations(db: Executor): Promise<Destination[]> {
  const rows = await db.selectFrom('destinations').selectAll().orderBy('name').execute();
  return rows.map(destinationFromRow);
}

export async function findDestinationRow(db: Executor, name: string): Promise<DestinationRow | undefined> {
  return db.selectFrom('destinations').selectAll().where('name', '=', name).executeTakeFirst();
}

/** A destination as an operator defines it (admin API, provisioning file), validated already. */
export interface DestinationSpec {
  readonly name: string;
  /** webhook when absent */
  readonly kind?: DestinationKind;
  readonly url: string | null;
  /** json when absent */
  readonly format?: DestinationFormat;
  /** email: the recipients */
  readonly to?: readonly string[] | null;
  readonly eventTypes: readonly OutboundType[];
  readonly dealers: '*' | readonly string[];
  readonly secret: string;
  readonly ordering: Ordering;
  readonly retrySchedule: readonly number[] | null;
  readonly rateLimit: number | null;
  readonly enabled: boolean;
}

/** The columns a spec sets (health and timestamps are not among them). */
export const destinationColumns = (spec: DestinationSpec) => ({
  kind: spec.kind ?? 'webhook',
  url: spec.url,
  format: spec.format ?? 'json',
  email_to: spec.to ? JSON.stringify(spec.to) : null,
  event_types: JSON.stringify(spec.eventTypes),
  dealers: JSON.stringify(spec.dealers),
  secret: spec.secret,
  ordering: spec.ordering,
  retry_schedule: spec.retrySchedule === null ? null : JSON.stringify(spec.retrySchedule),
  rate_limit: spec.rateLimit,
  enabled: spec.enabled ? 1 : 0,
});

/** `feedTokenSha256`: a pull destination's feed token digest (feed-token.ts). */
export async function insertDestination(
  db: Executor,
  spec: DestinationSpec,
  now: number,
  feedTokenSha256: string | null = null,
): Promise<DestinationRow> {
  return db
    .insertInto('destinations')
    .values({
      name: spec.name,
      ...destinationColumns(spec),
      feed_token_sha256: spec.kind === 'pull' ? feedTokenSha256 : null,
      disabled_reason: spec.enabled ? null : 'disabled by an operator',
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Rewrites a destination. Enabling one clears its health (a fresh start: breaker closed, no
 * streak); disabling one by hand records that an operator did. A webhook has no feed token; a
 * pull destination keeps its own unless `feedTokenSha256` replaces it.
 */
export async function updateDestination(
  db: Executor,
  before: DestinationRow,
  spec: DestinationSpec,
  now: number,
  feedTokenSha256?: string,
): Promise<DestinationRow> {
  const enabling = spec.enabled && before.enabled === 0;
  const disabling = !spec.enabled && before.enabled === 1;
  return db
    .updateTable('destinations')
    .set({
      ...destinationColumns(spec),
      feed_token_sha256: spec.kind === 'pull' ? (feedTokenSha256 ?? before.feed_token_sha256) : null,
      updated_at: now,
      ...(enabling ? { disabled_reason: null, failure_streak: 0, failing_since: null, breaker_open_until: null } : {}),
      ...(disabling ? { disabled_reason: 'disabled by an operator' } : {}),
    })
    .where('name', '=', before.name)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A new secret signs from now on; the old one also signs until `overlapUntil`. */
export async function rotateSecret(db: Executor, before: DestinationRow, secret: string, overlapUntil: number, now: number): Promise<void> {
  await db
    .updateTable('destinations')
    .set({ secret, previous_secret: before.secret, previous_secret_until: overlapUntil, updated_at: now })
    .where('name', '=', before.name)
    .execute();
}

/** A pull destination's new feed token (its digest): the old one stops opening the feed at once. */
export async function setFeedToken(db: Executor, name: string, feedTokenSha256: string, now: number): Promise<void> {
  await db.updateTable('destinations').set({ feed_token_sha256: feedTokenSha256, updated_at: now }).where('name', '=', name).execute();
}

export async function deleteDestination(db: Executor, name: string): Promise<boolean> {
  const result = await db.deleteFrom('destinations').where('name', '=', name).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
