// Leads as their ADF documents (adf.ts), with what the document needs beyond the lead itself:
// the provisioned customer and vehicle, the dealer, the partner. One read of each table for a
// whole batch of saves, only when a destination wants ADF.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { type AdfResult, adfDocument, type SavedLead } from './adf.js';

export const ADF_CONTENT_TYPE = 'application/xml';

/** A saved lead, the save it came from (created or updated) and the partner that saved it. */
export interface LeadSave {
  readonly lead: SavedLead;
  readonly change: 'created' | 'updated';
  /** The partner (subscriber) that saved it; null when unknown (a lead saved before this was kept). */
  readonly partner: string | null;
}

const unique = (values: readonly string[]) => [...new Set(values)];

/** The ADF document of each save, in `saves`' order. */
export async function adfDocuments(db: Kysely<Database>, saves: readonly LeadSave[]): Promise<AdfResult[]> {
  if (saves.length === 0) return [];
  const leads = saves.map((s) => s.lead);
  const [customers, vehicles, dealers] = await Promise.all([
    db
      .selectFrom('customers')
      .select(['uuid', 'dealer_uuid', 'first_name', 'last_name', 'email', 'phone'])
      .where('uuid', 'in', unique(leads.map((l) => l.customer.uuid)))
      .execute(),
    db
      .selectFrom('vehicles')
      .select(['uuid', 'dealer_uuid', 'vin', 'year', 'make', 'model'])
      .where('uuid', 'in', unique(leads.map((l) => l.vehicle.uuid)))
      .execute(),
    db
      .selectFrom('dealers')
      .select(['uuid', 'name'])
      .where('uuid', 'in', unique(leads.map((l) => l.dealerUuid)))
      .execute(),
  ]);
  // Customers and vehicles belong to a dealer: the same uuid under another dealer is not this one.
  const key = (dealer: string, uuid: string) => `${dealer}\u0000${uuid}`;
  const customerBy = new Map(customers.map((c) => [key(c.dealer_uuid, c.uuid), c]));
  const vehicleBy = new Map(vehicles.map((v) => [key(v.dealer_uuid, v.uuid), v]));
  const dealerBy = new Map(dealers.map((d) => [d.uuid, d]));
  return saves.map(({ lead, change, partner }) => {
    const customer = customerBy.get(key(lead.dealerUuid, lead.customer.uuid));
    const vehicle = vehicleBy.get(key(lead.dealerUuid, lead.vehicle.uuid));
    return adfDocument({
      lead,
      change,
      customer: customer
        ? { firstName: customer.first_name, lastName: customer.last_name, email: customer.email, phone: customer.phone }
        : null,
      vehicle: vehicle ? { vin: vehicle.vin, year: vehicle.year, make: vehicle.make, model: vehicle.model } : null,
      dealer: { uuid: lead.dealerUuid, name: dealerBy.get(lead.dealerUuid)?.name ?? lead.dealerUuid },
      partner: partner ?? lead.dealerDetails.source,
    });
  });
}
