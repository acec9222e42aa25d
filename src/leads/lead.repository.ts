// Lead persistence: plain functions over a Kysely instance or transaction.
import type { Kysely, Transaction } from 'kysely';
import { reusableQuery } from '../db/reusable-query.js';
import type { Database, LeadRow, NewLeadRow } from '../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface LeadReferences {
  /** Null when the dealer does not exist (then the others are null too). */
  readonly dealer: string | null;
  readonly customer: string | null;
  readonly vehicle: string | null;
  readonly vehicleCustomer: string | null;
}

// The dealer, the lead's customer and vehicle, in one round trip: dealers LEFT JOIN the two.
const referencesQuery = reusableQuery((db) =>
  db
    .selectFrom('dealers as d')
    .leftJoin('customers as c', (join) => join.onRef('c.dealer_uuid', '=', 'd.uuid').on('c.uuid', '=', ''))
    .leftJoin('vehicles as v', (join) => join.onRef('v.dealer_uuid', '=', 'd.uuid').on('v.uuid', '=', ''))
    .select(['d.uuid as dealer', 'c.uuid as customer', 'v.uuid as vehicle', 'v.customer_uuid as vehicleCustomer'])
    .where('d.uuid', '=', ''),
);

export async function findReferences(db: Executor, dealerUuid: string, customerUuid: string, vehicleUuid: string): Promise<LeadReferences> {
  const row = await referencesQuery(db, [customerUuid, vehicleUuid, dealerUuid]);
  return row ?? { dealer: null, customer: null, vehicle: null, vehicleCustomer: null };
}

export type LeadChanges = Pick<
  NewLeadRow,
  'lead_id' | 'web_id' | 'customer_uuid' | 'vehicle_uuid' | 'source' | 'status' | 'lead_type' | 'last_contact_at' | 'body' | 'updated_at'
>;

/**
 * Inserts the lead, or — when its (dealer, key) exists — updates that row and counts the save.
 * One statement, so concurrent saves of one lead serialize on the unique index, and a batch
 * that holds this write holds nothing half-done. Returns the lead's prospect UUID and whether
 * this save created it (its save_count is then 1).
 */
export async function upsertLead(db: Executor, row: NewLeadRow, changes: LeadChanges): Promise<{ prospectUuid: string; created: boolean }> {
  const saved = await db
    .insertInto('leads')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['dealer_uuid', 'lead_key']).doUpdateSet((eb) => ({ ...changes, save_count: eb('leads.save_count', '+', 1) })),
    )
    .returning(['prospect_uuid', 'save_count'])
    .executeTakeFirstOrThrow();
  return { prospectUuid: saved.prospect_uuid, created: saved.save_count === 1 };
}

export async function findLead(db: Executor, dealerUuid: string, prospectUuid: string): Promise<LeadRow | undefined> {
  return db
    .selectFrom('leads')
    .selectAll()
    .where('dealer_uuid', '=', dealerUuid)
    .where('prospect_uuid', '=', prospectUuid)
    .executeTakeFirst();
}
