// Lead persistence: plain functions over a Kysely instance or transaction.
import type { Kysely, Transaction } from 'kysely';
import type { Database, LeadRow, NewLeadRow } from '../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function dealerExists(db: Executor, dealerUuid: string): Promise<boolean> {
  const row = await db.selectFrom('dealers').select('uuid').where('uuid', '=', dealerUuid).executeTakeFirst();
  return row !== undefined;
}

export async function findCustomer(db: Executor, dealerUuid: string, customerUuid: string) {
  return db
    .selectFrom('customers')
    .select(['uuid'])
    .where('dealer_uuid', '=', dealerUuid)
    .where('uuid', '=', customerUuid)
    .executeTakeFirst();
}

export async function findVehicle(db: Executor, dealerUuid: string, vehicleUuid: string) {
  return db
    .selectFrom('vehicles')
    .select(['uuid', 'customer_uuid'])
    .where('dealer_uuid', '=', dealerUuid)
    .where('uuid', '=', vehicleUuid)
    .executeTakeFirst();
}

/** Inserts the lead unless its (dealer, key) exists. Returns whether this call created it. */
export async function insertLeadIfAbsent(db: Executor, row: NewLeadRow): Promise<boolean> {
  const inserted = await db
    .insertInto('leads')
    .values(row)
    .onConflict((oc) => oc.columns(['dealer_uuid', 'lead_key']).doNothing())
    .returning('prospect_uuid')
    .executeTakeFirst();
  return inserted !== undefined;
}

export type LeadChanges = Pick<
  NewLeadRow,
  'lead_id' | 'web_id' | 'customer_uuid' | 'vehicle_uuid' | 'source' | 'status' | 'lead_type' | 'last_contact_at' | 'body' | 'updated_at'
>;

/** Updates the lead with this (dealer, key); returns its prospect UUID. */
export async function updateLeadByKey(
  db: Executor,
  dealerUuid: string,
  leadKey: string,
  changes: LeadChanges,
): Promise<string | undefined> {
  const row = await db
    .updateTable('leads')
    .set((eb) => ({ ...changes, save_count: eb('save_count', '+', 1) }))
    .where('dealer_uuid', '=', dealerUuid)
    .where('lead_key', '=', leadKey)
    .returning('prospect_uuid')
    .executeTakeFirst();
  return row?.prospect_uuid;
}

export async function findLead(db: Executor, dealerUuid: string, prospectUuid: string): Promise<LeadRow | undefined> {
  return db
    .selectFrom('leads')
    .selectAll()
    .where('dealer_uuid', '=', dealerUuid)
    .where('prospect_uuid', '=', prospectUuid)
    .executeTakeFirst();
}
