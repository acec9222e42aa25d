// `apply`: makes the database match a provisioning document, in one transaction.
// - Idempotent: rows that already match are not touched, and the provisioning revision (which
//   running services poll) only moves when something changed.
// - Entities absent from the file are left alone (several files may provision disjoint parts);
//   a listed subscriber's grants are exactly the file's grants. Disable a subscriber with
//   "disabled": true rather than deleting it, so its history stays attributable.
import type { Kysely, Transaction } from 'kysely';
import { hashPassword, verifyPassword } from '../auth/password.js';
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

/**
 * Inserts, updates or leaves one row, and counts which. `keys` name the primary key columns.
 */
async function upsertRow(
  trx: Transaction<Database>,
  table: 'dealers' | 'subscribers' | 'customers' | 'vehicles' | 'integrations',
  keys: readonly string[],
  desired: Row,
  counts: Tally,
  now: number,
): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: one generic upsert over four tables
  const t = trx as Transaction<any>;
  // biome-ignore lint/suspicious/noExplicitAny: keys are columns of `table`
  const byKey = (qb: any) => keys.reduce((q, k) => q.where(k, '=', desired[k]), qb);
  const current = (await byKey(t.selectFrom(table).selectAll()).executeTakeFirst()) as Row | undefined;
  const changes = diff(current, desired);
  if (current === undefined) {
    await t
      .insertInto(table)
      .values({ ...desired, created_at: now, updated_at: now })
      .execute();
    counts.created++;
  } else if (changes !== undefined) {
    await byKey(t.updateTable(table).set({ ...changes, updated_at: now })).execute();
    counts.updated++;
  } else {
    counts.unchanged++;
  }
}

/** Resolves each subscriber's password hash, keeping the stored one when the password still matches. */
async function resolvePasswordHashes(db: Kysely<Database>, subscribers: readonly SubscriberSpec[]): Promise<Map<string, string>> {
  if (subscribers.length === 0) return new Map();
  const stored = new Map(
    (
      await db
        .selectFrom('subscribers')
        .select(['username', 'password_hash'])
        .where(
          'username',
          'in',
          subscribers.map((s) => s.username),
        )
        .execute()
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
    const report = { dealers: tally(), subscribers: tally(), customers: tally(), vehicles: tally(), integrations: tally() };
    for (const d of file.dealers ?? []) {
      await upsertRow(trx, 'dealers', ['uuid'], { uuid: d.uuid, name: d.name }, report.dealers, now);
    }
    for (const s of subscribers) {
      const desired = { username: s.username, password_hash: hashes.get(s.username), disabled: s.disabled ? 1 : 0 };
      const before = report.subscribers.unchanged;
      await upsertRow(trx, 'subscribers', ['username'], desired, report.subscribers, now);
      const grantsChanged = await syncGrants(trx, s);
      if (grantsChanged && report.subscribers.unchanged > before) {
        // Same row, new grants: it is an update of the subscriber.
        report.subscribers.unchanged--;
        report.subscribers.updated++;
        await trx.updateTable('subscribers').set({ updated_at: now }).where('username', '=', s.username).execute();
      }
    }
    for (const c of file.customers ?? []) {
      const customer = {
        uuid: c.uuid,
        dealer_uuid: c.dealer,
        first_name: c.firstName ?? null,
        last_name: c.lastName ?? null,
        email: c.email ?? null,
        phone: c.phone ?? null,
      };
      await upsertRow(trx, 'customers', ['uuid'], customer, report.customers, now);
      for (const v of c.vehicles ?? []) {
        const vehicle = {
          uuid: v.uuid,
          dealer_uuid: c.dealer,
          customer_uuid: c.uuid,
          vin: v.vin ?? null,
          year: v.year ?? null,
          make: v.make ?? null,
          model: v.model ?? null,
        };
        await upsertRow(trx, 'vehicles', ['uuid'], vehicle, report.vehicles, now);
      }
    }
    for (const x of file.integrations ?? []) {
      const integration = {
        username: x.subscriber,
        event_type: x.eventType,
        active: x.active === false ? 0 : 1,
        dealer_id_field: x.dealerIdField ?? DEFAULT_DEALER_ID_FIELD,
        dealer_map: JSON.stringify(x.dealerMap ?? {}),
        json_schema: x.schema === undefined || x.schema === null ? null : JSON.stringify(x.schema),
        transform: x.transform ?? null,
      };
      await upsertRow(trx, 'integrations', ['username', 'event_type'], integration, report.integrations, now);
    }

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
