// Lead persistence: plain functions over a Kysely instance or transaction.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, LeadRow, NewLeadRow } from '../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface LeadReferences {
  /** Null when the dealer does not exist (then the others are null too). */
  readonly dealer: string | null;
  readonly customer: string | null;
  readonly vehicle: string | null;
  readonly vehicleCustomer: string | null;
}

/** One lead's references, by the (dealer, customer, vehicle) it names. */
export const referencesKey = (dealerUuid: string, customerUuid: string, vehicleUuid: string) =>
  `${dealerUuid}\u0000${customerUuid}\u0000${vehicleUuid}`;

/**
 * The references of many leads in one round trip: a VALUES list of (dealer, customer, vehicle)
 * LEFT JOINed to the three tables (VALUES columns are column1… on SQLite and PostgreSQL alike).
 * Keyed by referencesKey; a dealer that does not exist gives all nulls.
 */
export async function findReferencesOfMany(
  db: Executor,
  wanted: readonly { dealerUuid: string; customerUuid: string; vehicleUuid: string }[],
): Promise<Map<string, LeadReferences>> {
  const found = new Map<string, LeadReferences>();
  if (wanted.length === 0) return found;
  const values = sql.join(wanted.map((w) => sql`(${w.dealerUuid}, ${w.customerUuid}, ${w.vehicleUuid})`));
  const { rows } = await sql<{ d: string; c: string; v: string } & Record<keyof LeadReferences, string | null>>`
    SELECT r.column1 AS d, r.column2 AS c, r.column3 AS v,
      dl.uuid AS dealer, cu.uuid AS customer, ve.uuid AS vehicle, ve.customer_uuid AS "vehicleCustomer"
    FROM (VALUES ${values}) AS r
    LEFT JOIN dealers dl ON dl.uuid = r.column1
    LEFT JOIN customers cu ON cu.dealer_uuid = dl.uuid AND cu.uuid = r.column2
    LEFT JOIN vehicles ve ON ve.dealer_uuid = dl.uuid AND ve.uuid = r.column3`.execute(db);
  for (const row of rows) {
    found.set(referencesKey(row.d, row.c, row.v), {
      dealer: row.dealer,
      customer: row.customer,
      vehicle: row.vehicle,
      vehicleCustomer: row.vehicleCustomer,
    });
  }
  return found;
}

export type LeadChanges = Pick<
  NewLeadRow,
  | 'lead_id'
  | 'web_id'
  | 'customer_uuid'
  | 'vehicle_uuid'
  | 'source'
  | 'status'
  | 'lead_type'
  | 'last_contact_at'
  | 'body'
  | 'saved_by'
  | 'updated_at'
>;

/**
 * Upserts many leads in one statement; their (dealer, key) pairs must be distinct (a statement
 * cannot update one row twice). Returns, per pair, the saved row and whether it was created.
 */
export async function upsertLeads(db: Executor, rows: readonly NewLeadRow[]): Promise<Map<string, { row: LeadRow; created: boolean }>> {
  const saved = new Map<string, { row: LeadRow; created: boolean }>();
  if (rows.length === 0) return saved;
  const returned = await db
    .insertInto('leads')
    .values([...rows])
    .onConflict((oc) =>
      oc.columns(['dealer_uuid', 'lead_key']).doUpdateSet((eb) => ({
        ...Object.fromEntries(CHANGED_COLUMNS.map((column) => [column, eb.ref(`excluded.${column}`)])),
        save_count: eb('leads.save_count', '+', 1),
      })),
    )
    .returningAll()
    .execute();
  for (const row of returned) saved.set(leadRowKey(row.dealer_uuid, row.lead_key), { row, created: row.save_count === 1 });
  return saved;
}

/** The columns a save rewrites on an existing lead (all of LeadChanges). */
const CHANGED_COLUMNS = [
  'lead_id',
  'web_id',
  'customer_uuid',
  'vehicle_uuid',
  'source',
  'status',
  'lead_type',
  'last_contact_at',
  'body',
  'saved_by',
  'updated_at',
] as const satisfies readonly (keyof LeadChanges)[];
// Every column of LeadChanges is rewritten: a column added there and not here fails to compile.
const everyChange: [Exclude<keyof LeadChanges, (typeof CHANGED_COLUMNS)[number]>] extends [never] ? true : never = true;
void everyChange;

export const leadRowKey = (dealerUuid: string, leadKey: string) => `${dealerUuid}\u0000${leadKey}`;

export async function findLead(db: Executor, dealerUuid: string, prospectUuid: string): Promise<LeadRow | undefined> {
  return db
    .selectFrom('leads')
    .selectAll()
    .where('dealer_uuid', '=', dealerUuid)
    .where('prospect_uuid', '=', prospectUuid)
    .executeTakeFirst();
}
