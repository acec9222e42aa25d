// `apply`: makes the database match a provisioning document, in one transaction.
// - Idempotent: rows that already match are not touched, and the provisioning revision (which
//   running services poll) only moves when something changed.
// - Entities absent from the file are left alone (several files may provision disjoint parts);
//   a listed subscriber's grants are exactly the file's grants. Disable a subscriber with
//   "disabled": true rather than deleting it, so its history stays attributable.
// - Audited: every created or updated row gets an audit_log entry (who, before, after) in the
//   same transaction, so `apply` and the admin API (which writes through here) leave one trail.
import type { Kysely, Transaction } from 'kysely';
import { type AuditEntry, recordAudit } from '../audit/audit.repository.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { queryInChunks } from '../db/chunks.js';
import type { Database } from '../db/schema.js';
import { destinationSpec } from '../delivery/destination.rules.js';
import { feedTokenDigest, generateFeedToken } from '../delivery/feed-token.js';
import { parseAllowedNetworks } from '../delivery/ssrf.js';
import {
  destinationColumns,
  destinationFromRow,
  findDestinationRow,
  insertDestination,
  rotateSecret,
  updateDestination,
} from '../outbox/destination.repository.js';
import { DEFAULT_DEALER_ID_FIELD } from '../pipeline/dealer.js';
import { DEFAULT_PASSWORD_OVERLAP_HOURS, type ProvisioningFile, type SubscriberSpec } from './provisioning.schema.js';
import { validateProvisioning } from './provisioning.validate.js';

interface Tally {
  created: number;
  updated: number;
  unchanged: number;
}

export interface ApplyReport {
  readonly changed: boolean;
  readonly revision: number;
  readonly dealers: Tally;
  readonly subscribers: Tally;
  readonly customers: Tally;
  readonly vehicles: Tally;
  readonly integrations: Tally;
  readonly destinations: Tally;
  /** Secrets generated for destinations this apply created without one: shown once, here. */
  readonly generatedSecrets: Readonly<Record<string, string>>;
  /** Feed tokens of the pull destinations this apply created (or made pull): shown once, here. */
  readonly generatedFeedTokens: Readonly<Record<string, string>>;
}

const tally = (): Tally => ({ created: 0, updated: 0, unchanged: 0 });

type Row = Record<string, unknown>;

/** Fields of `desired` that differ from `current` (undefined current = the row is new). */
function diff(current: Row | undefined, desired: Row): Row | undefined {
  if (current === undefined) return desired;
  const changes: Row = {};
  for (const [key, value] of Object.entries(desired)) if (current[key] !== value) changes[key] = value;
  return Object.keys(changes).length > 0 ? changes : undefined;
}

type RowFate = 'created' | 'updated' | 'unchanged';
const INSERT_CHUNK = 500;

/** What happened to one desired row: its fate, the stored row before (absent when created) and after. */
interface RowChange {
  readonly fate: RowFate;
  readonly before: Row | undefined;
  readonly after: Row;
}

type SyncedTable = 'dealers' | 'subscribers' | 'customers' | 'vehicles' | 'integrations';

const AUDIT_ENTITY: Record<SyncedTable, string> = {
  dealers: 'dealer',
  subscribers: 'subscriber',
  customers: 'customer',
  vehicles: 'vehicle',
  integrations: 'integration',
};
const JSON_COLUMNS = new Set(['dealer_map', 'json_schema', 'rate_limit']);
/** Never in an audit entry: password hashes (current and previous) and the previous one's expiry. */
const HIDDEN_COLUMNS = new Set(['created_at', 'updated_at', 'password_hash', 'previous_password_hash', 'previous_valid_until']);
const FLAG_COLUMNS = new Set(['active', 'disabled']);

/**
 * A row as the audit log shows it: its columns without the timestamps (the entry has its own
 * time), JSON columns parsed and flags as booleans. Never the password hash: a leaked log must
 * not hand out offline-crackable hashes, so the subscriber's entry only says whether it changed.
 */
function auditView(row: Row): Row {
  const view: Row = {};
  for (const [column, value] of Object.entries(row)) {
    if (HIDDEN_COLUMNS.has(column)) continue;
    // No limit is the usual case: say nothing rather than `rate_limit: null` on every subscriber.
    if (column === 'rate_limit' && value === null) continue;
    if (JSON_COLUMNS.has(column) && typeof value === 'string') view[column] = JSON.parse(value);
    else if (FLAG_COLUMNS.has(column) && typeof value === 'number') view[column] = value === 1;
    else view[column] = value;
  }
  return view;
}

interface GrantRow {
  readonly scope: string;
  readonly dealer_uuid: string;
}

/** Grants as the audit log shows them: scope → sorted dealer UUIDs ('*' for MultiDealer). */
function grantsView(grants: readonly GrantRow[]): Record<string, string[]> {
  const view: Record<string, string[]> = {};
  for (const g of [...grants].sort((a, b) => a.scope.localeCompare(b.scope) || a.dealer_uuid.localeCompare(b.dealer_uuid))) {
    view[g.scope] = [...(view[g.scope] ?? []), g.dealer_uuid];
  }
  return view;
}

/**
 * Makes `table` hold the `desired` rows (matched on the primary key `keys`): inserts the missing
 * ones in bulk, updates the ones that differ, leaves the rest untouched. Existing rows are read
 * in chunks up front, so a file of 40 000 customers costs a few hundred statements, not 80 000.
 * Returns what happened to each row, by key, in the order of `desired`.
 */
async function syncRows(
  trx: Transaction<Database>,
  table: SyncedTable,
  keys: readonly [string, ...string[]],
  desired: readonly Row[],
  counts: Tally,
  now: number,
): Promise<Map<string, RowChange>> {
  // biome-ignore lint/suspicious/noExplicitAny: one generic sync over five tables
  const t = trx as Transaction<any>;
  const keyOf = (row: Row) => keys.map((k) => String(row[k])).join('\0');
  const [first] = keys;
  const rows = (await queryInChunks(
    desired.map((row) => row[first]),
    (chunk) => t.selectFrom(table).selectAll().where(first, 'in', chunk).execute(),
  )) as Row[];
  const existing = new Map(rows.map((row) => [keyOf(row), row]));

  const fates = new Map<string, RowChange>();
  const inserts: Row[] = [];
  for (const row of desired) {
    const current = existing.get(keyOf(row));
    const changes = diff(current, row);
    const fate: RowFate = current === undefined ? 'created' : changes === undefined ? 'unchanged' : 'updated';
    fates.set(keyOf(row), { fate, before: current, after: { ...current, ...row } });
    counts[fate]++;
    if (fate === 'created') inserts.push({ ...row, created_at: now, updated_at: now });
    if (fate === 'updated') {
      await keys.reduce((q, k) => q.where(k, '=', row[k]), t.updateTable(table).set({ ...changes, updated_at: now })).execute();
    }
  }
  for (let i = 0; i < inserts.length; i += INSERT_CHUNK) {
    await t
      .insertInto(table)
      .values(inserts.slice(i, i + INSERT_CHUNK))
      .execute();
  }
  return fates;
}

/** One audit entry per created or updated row; unchanged rows leave no trace. */
function auditChanges(table: SyncedTable, keys: readonly string[], changes: ReadonlyMap<string, RowChange>, actor: string): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (const change of changes.values()) {
    if (change.fate === 'unchanged') continue;
    entries.push({
      actor,
      action: change.fate === 'created' ? 'create' : 'update',
      entity: AUDIT_ENTITY[table],
      key: keys.map((k) => String(change.after[k])).join('/'),
      before: change.before === undefined ? null : auditView(change.before),
      after: auditView(change.after),
    });
  }
  return entries;
}

/** Resolves each subscriber's password hash, keeping the stored one when the password still matches. */
async function resolvePasswordHashes(db: Kysely<Database>, subscribers: readonly SubscriberSpec[]): Promise<Map<string, string>> {
  if (subscribers.length === 0) return new Map();
  const stored = new Map(
    (
      await queryInChunks(
        subscribers.map((s) => s.username),
        (chunk) => db.selectFrom('subscribers').select(['username', 'password_hash']).where('username', 'in', chunk).execute(),
      )
    ).map((r) => [r.username, r.password_hash]),
  );
  const hashes = new Map<string, string>();
  for (const s of subscribers) {
    if (s.passwordHash !== undefined) {
      hashes.set(s.username, s.passwordHash);
      continue;
    }
    const current = stored.get(s.username);
    const password = s.password as string;
    hashes.set(s.username, current !== undefined && (await verifyPassword(password, current)) ? current : await hashPassword(password));
  }
  return hashes;
}

/** Makes the subscriber's grants exactly the spec's; returns the grants before and after. */
async function syncGrants(
  trx: Transaction<Database>,
  s: SubscriberSpec,
): Promise<{ changed: boolean; before: GrantRow[]; after: GrantRow[] }> {
  const desired = new Set(s.grants.flatMap((g) => (g.dealers === '*' ? ['*'] : g.dealers).map((d) => `${g.scope}\0${d}`)));
  const current = await trx.selectFrom('grants').select(['scope', 'dealer_uuid']).where('username', '=', s.username).execute();
  const currentKeys = new Set(current.map((g) => `${g.scope}\0${g.dealer_uuid}`));
  const removed = current.filter((g) => !desired.has(`${g.scope}\0${g.dealer_uuid}`));
  const added = [...desired].filter((k) => !currentKeys.has(k));
  for (const g of removed) {
    await trx
      .deleteFrom('grants')
      .where('username', '=', s.username)
      .where('scope', '=', g.scope)
      .where('dealer_uuid', '=', g.dealer_uuid)
      .execute();
  }
  if (added.length > 0) {
    await trx
      .insertInto('grants')
      .values(
        added.map((k) => {
          const [scope, dealer] = k.split('\0') as [string, string];
          return { username: s.username, scope, dealer_uuid: dealer };
        }),
      )
      .execute();
  }
  const after = [...desired].map((k) => {
    const [scope, dealer] = k.split('\0') as [string, string];
    return { scope, dealer_uuid: dealer };
  });
  return { changed: removed.length > 0 || added.length > 0, before: current, after };
}

export interface ApplyOptions {
  /** Who the audit log names for the changes: 'apply' (the CLI, the default) or 'admin-api'. */
  readonly actor?: string;
  /** DELIVERY_ALLOW_PRIVATE_NETWORKS: destinations may reach these although private. */
  readonly allowPrivateNetworks?: readonly string[];
  /** DELIVERY_SECRET_OVERLAP_HOURS: a secret changed by the file also signs for this long (default 24). */
  readonly secretOverlapHours?: number;
}

export async function applyProvisioning(db: Kysely<Database>, doc: unknown, options: ApplyOptions = {}): Promise<ApplyReport> {
  const actor = options.actor ?? 'apply';
  const allowed = parseAllowedNetworks(options.allowPrivateNetworks?.join(','));
  const file: ProvisioningFile = await validateProvisioning(db, doc, allowed);
  const subscribers = file.subscribers ?? [];
  // scrypt is slow by design: hash outside the transaction so the write lock is held briefly.
  const hashes = await resolvePasswordHashes(db, subscribers);
  const now = Date.now();

  return db.transaction().execute(async (trx) => {
    // Write first: take the provisioning row's lock before reading anything. Concurrent applies
    // then run one after the other (PostgreSQL row lock), and on SQLite the transaction holds the
    // write lock from the start — a read-then-write transaction could otherwise fail with
    // SQLITE_BUSY when the service commits between its read and its first write.
    await trx
      .updateTable('provisioning_state')
      .set((eb) => ({ revision: eb.ref('revision') }))
      .where('id', '=', 1)
      .execute();
    const report = {
      dealers: tally(),
      subscribers: tally(),
      customers: tally(),
      vehicles: tally(),
      integrations: tally(),
      destinations: tally(),
    };
    // Parents before children: dealers, subscribers (then their grants), customers, vehicles, integrations.
    const dealerChanges = await syncRows(
      trx,
      'dealers',
      ['uuid'],
      (file.dealers ?? []).map((d) => ({ uuid: d.uuid, name: d.name })),
      report.dealers,
      now,
    );
    const audit = auditChanges('dealers', ['uuid'], dealerChanges, actor);

    const subscriberRows = subscribers.map((s) => ({
      username: s.username,
      password_hash: hashes.get(s.username),
      disabled: s.disabled ? 1 : 0,
      rate_limit: s.rateLimit ? JSON.stringify({ requestsPerSecond: s.rateLimit.requestsPerSecond, burst: s.rateLimit.burst }) : null,
    }));
    const subscriberChanges = await syncRows(trx, 'subscribers', ['username'], subscriberRows, report.subscribers, now);
    for (const s of subscribers) {
      const change = subscriberChanges.get(s.username) as RowChange;
      const passwordChanged = change.before !== undefined && change.before.password_hash !== change.after.password_hash;
      // Rotation without cutting the partner off: the old hash keeps signing in for the overlap
      // (passwordOverlapHours, default 24; 0 = at once), then the directory refuses it.
      let previousValidUntil: number | null = null;
      if (passwordChanged) {
        const overlapMs = (s.passwordOverlapHours ?? DEFAULT_PASSWORD_OVERLAP_HOURS) * 3_600_000;
        previousValidUntil = overlapMs > 0 ? now + overlapMs : null;
        await trx
          .updateTable('subscribers')
          .set({
            previous_password_hash: overlapMs > 0 ? (change.before?.password_hash as string) : null,
            previous_valid_until: previousValidUntil,
          })
          .where('username', '=', s.username)
          .execute();
      }
      const grants = await syncGrants(trx, s);
      if (grants.changed && change.fate === 'unchanged') {
        // Same row, new grants: it is an update of the subscriber.
        report.subscribers.unchanged--;
        report.subscribers.updated++;
        await trx.updateTable('subscribers').set({ updated_at: now }).where('username', '=', s.username).execute();
      }
      if (change.fate === 'unchanged' && !grants.changed) continue;
      audit.push({
        actor,
        action: change.fate === 'created' ? 'create' : 'update',
        entity: 'subscriber',
        key: s.username,
        before: change.before === undefined ? null : { ...auditView(change.before), grants: grantsView(grants.before) },
        after: {
          ...auditView(change.after),
          passwordChanged: change.before?.password_hash !== change.after.password_hash,
          ...(passwordChanged
            ? { previousPasswordValidUntil: previousValidUntil === null ? null : new Date(previousValidUntil).toISOString() }
            : {}),
          grants: grantsView(grants.after),
        },
      });
    }

    const customers = file.customers ?? [];
    const customerRows = customers.map((c) => ({
      uuid: c.uuid,
      dealer_uuid: c.dealer,
      first_name: c.firstName ?? null,
      last_name: c.lastName ?? null,
      email: c.email ?? null,
      phone: c.phone ?? null,
    }));
    audit.push(
      ...auditChanges('customers', ['uuid'], await syncRows(trx, 'customers', ['uuid'], customerRows, report.customers, now), actor),
    );
    const vehicleRows = customers.flatMap((c) =>
      (c.vehicles ?? []).map((v) => ({
        uuid: v.uuid,
        dealer_uuid: c.dealer,
        customer_uuid: c.uuid,
        vin: v.vin ?? null,
        year: v.year ?? null,
        make: v.make ?? null,
        model: v.model ?? null,
      })),
    );
    audit.push(...auditChanges('vehicles', ['uuid'], await syncRows(trx, 'vehicles', ['uuid'], vehicleRows, report.vehicles, now), actor));

    const integrationRows = (file.integrations ?? []).map((x) => ({
      username: x.subscriber,
      event_type: x.eventType,
      active: x.active === false ? 0 : 1,
      dealer_id_field: x.dealerIdField ?? DEFAULT_DEALER_ID_FIELD,
      dealer_map: JSON.stringify(x.dealerMap ?? {}),
      json_schema: x.schema === undefined || x.schema === null ? null : JSON.stringify(x.schema),
      transform: x.transform ?? null,
    }));
    const integrationKeys = ['username', 'event_type'] as const;
    const integrationChanges = await syncRows(trx, 'integrations', integrationKeys, integrationRows, report.integrations, now);
    audit.push(...auditChanges('integrations', integrationKeys, integrationChanges, actor));
    const generatedSecrets: Record<string, string> = {};
    const generatedFeedTokens: Record<string, string> = {};
    for (const input of file.destinations ?? []) {
      const before = await findDestinationRow(trx, input.name);
      const checked = destinationSpec(input, allowed, before?.secret, before === undefined ? undefined : before.enabled === 1);
      if (!checked.ok) throw new Error(`destination ${input.name} passed validation but not its spec`);
      const spec = checked.spec;
      // A pull destination gets its feed token when created, or when it becomes one.
      const feedToken = spec.kind === 'pull' && before?.kind !== 'pull' ? generateFeedToken() : undefined;
      if (feedToken !== undefined) generatedFeedTokens[spec.name] = feedToken;
      const feedDigest = feedToken === undefined ? undefined : feedTokenDigest(feedToken);
      if (before === undefined) {
        const row = await insertDestination(trx, spec, now, feedDigest ?? null);
        if (input.secret === undefined) generatedSecrets[spec.name] = spec.secret;
        report.destinations.created++;
        audit.push({ actor, action: 'create', entity: 'destination', key: spec.name, before: null, after: destinationFromRow(row) });
        continue;
      }
      const current = destinationFromRow(before);
      const after = { ...destinationFromRow({ ...before, ...destinationColumns(spec) }), updatedAt: current.updatedAt };
      const secretChanged = spec.secret !== before.secret;
      if (!secretChanged && JSON.stringify(after) === JSON.stringify(current)) {
        report.destinations.unchanged++;
        continue;
      }
      const updated = await updateDestination(trx, before, spec, now, feedDigest);
      if (secretChanged) {
        await rotateSecret(trx, before, spec.secret, now + (options.secretOverlapHours ?? 24) * 3_600_000, now);
      }
      report.destinations.updated++;
      audit.push({
        actor,
        action: 'update',
        entity: 'destination',
        key: spec.name,
        before: current,
        after: { ...destinationFromRow(updated), ...(secretChanged ? { secretRotated: true } : {}) },
      });
    }
    await recordAudit(trx, audit, now);

    const changed = Object.values(report).some((t) => t.created > 0 || t.updated > 0);
    let revision: number;
    if (changed) {
      const row = await trx
        .updateTable('provisioning_state')
        .set((eb) => ({ revision: eb('revision', '+', 1), applied_at: now }))
        .where('id', '=', 1)
        .returning('revision')
        .executeTakeFirstOrThrow();
      revision = row.revision;
    } else {
      const row = await trx.selectFrom('provisioning_state').select('revision').where('id', '=', 1).executeTakeFirstOrThrow();
      revision = row.revision;
    }
    return { changed, revision, ...report, generatedSecrets, generatedFeedTokens };
  });
}
