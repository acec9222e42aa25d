// `apply`: makes the database match a provisioning document, in one transaction.
// - Idempotent: rows that already match are not touched, and the provisioning revision (which
//   running services poll) only moves when something changed.
// - Entities absent from the file are left alone (several files may provision disjoint parts);
//   a listed subscriber's grants are exactly the file's grants. Disable a subscriber with
//   "disabled": true rather than deleting it, so its history stays attributable.
import type { Kysely, Transaction } from 'kysely';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { queryInChunks } from '../db/chunks.js';
import type { Database } from '../db/schema.js';
import { DEFAULT_DEALER_ID_FIELD } from '../pipeline/dealer.js';
import type { ProvisioningFile, SubscriberSpec } from './provisioning.schema.js';
import { validateProvisioning } from './provisioning.validate.js';

export interface Tally {
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

/**
 * Makes `table` hold the `desired` rows (matched on the primary key `keys`): inserts the missing
 * ones in bulk, updates the ones that differ, leaves the rest untouched. Existing rows are read
 * in chunks up front, so a file of 40 000 customers costs a few hundred statements, not 80 000.
 * Returns what happened to each row, by key.
 */
async function syncRows(
  trx: Transaction<Database>,
  table: 'dealers' | 'subscribers' | 'customers' | 'vehicles' | 'integrations',
  keys: readonly [string, ...string[]],
  desired: readonly Row[],
  counts: Tally,
  now: number,
): Promise<Map<string, RowFate>> {
  // biome-ignore lint/suspicious/noExplicitAny: one generic sync over five tables
  const t = trx as Transaction<any>;
  const keyOf = (row: Row) => keys.map((k) => String(row[k])).join('\0');
  const [first] = keys;
  const rows = (await queryInChunks(
    desired.map((row) => row[first]),
    (chunk) => t.selectFrom(table).selectAll().where(first, 'in', chunk).execute(),
  )) as Row[];
  const existing = new Map(rows.map((row) => [keyOf(row), row]));

  const fates = new Map<string, RowFate>();
  const inserts: Row[] = [];
  for (const row of desired) {
    const current = existing.get(keyOf(row));
    const changes = diff(current, row);
    const fate: RowFate = current === undefined ? 'created' : changes === undefined ? 'unchanged' : 'updated';
    fates.set(keyOf(row), fate);
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

async function syncGrants(trx: Transaction<Database>, s: SubscriberSpec): Promise<boolean> {
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
  return removed.length > 0 || added.length > 0;
}

export async function applyProvisioning(db: Kysely<Database>, doc: unknown): Promise<ApplyReport> {
  const file: ProvisioningFile = await validateProvisioning(db, doc);
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
    const report = { dealers: tally(), subscribers: tally(), customers: tally(), vehicles: tally(), integrations: tally() };
    // Parents before children: dealers, subscribers (then their grants), customers, vehicles, integrations.
    await syncRows(
      trx,
      'dealers',
      ['uuid'],
      (file.dealers ?? []).map((d) => ({ uuid: d.uuid, name: d.name })),
      report.dealers,
      now,
    );

    const subscriberRows = subscribers.map((s) => ({
      username: s.username,
      password_hash: hashes.get(s.username),
      disabled: s.disabled ? 1 : 0,
    }));
    const fates = await syncRows(trx, 'subscribers', ['username'], subscriberRows, report.subscribers, now);
    for (const s of subscribers) {
      if ((await syncGrants(trx, s)) && fates.get(s.username) === 'unchanged') {
        // Same row, new grants: it is an update of the subscriber.
        report.subscribers.unchanged--;
        report.subscribers.updated++;
        await trx.updateTable('subscribers').set({ updated_at: now }).where('username', '=', s.username).execute();
      }
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
    await syncRows(trx, 'customers', ['uuid'], customerRows, report.customers, now);
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
    await syncRows(trx, 'vehicles', ['uuid'], vehicleRows, report.vehicles, now);

    const integrationRows = (file.integrations ?? []).map((x) => ({
      username: x.subscriber,
      event_type: x.eventType,
      active: x.active === false ? 0 : 1,
      dealer_id_field: x.dealerIdField ?? DEFAULT_DEALER_ID_FIELD,
      dealer_map: JSON.stringify(x.dealerMap ?? {}),
      json_schema: x.schema === undefined || x.schema === null ? null : JSON.stringify(x.schema),
      transform: x.transform ?? null,
    }));
    await syncRows(trx, 'integrations', ['username', 'event_type'], integrationRows, report.integrations, now);

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
    return { changed, revision, ...report };
  });
}
