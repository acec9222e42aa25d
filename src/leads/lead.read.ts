// Reading a saved lead: the row mapped to the lead as the API returns it.
import type { Kysely } from 'kysely';
import { AppError } from '../core/errors.js';
import type { Database, LeadRow } from '../db/schema.js';
import type { Lead, LeadInput } from './lead.model.js';
import * as repo from './lead.repository.js';

/** A saved row as the read API (and the outbox's lead.created / lead.updated) shows it. */
export function leadFromRow(row: LeadRow): Lead {
  const input = JSON.parse(row.body) as LeadInput;
  return {
    prospectUuid: row.prospect_uuid,
    dealerUuid: row.dealer_uuid,
    ...input,
    saveCount: row.save_count,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export async function getLead(db: Kysely<Database>, dealerUuid: string, prospectUuid: string): Promise<Lead> {
  const row = await repo.findLead(db, dealerUuid, prospectUuid);
  if (!row) throw new AppError('LEAD_NOT_FOUND', `Lead ${prospectUuid} does not exist for dealer ${dealerUuid}`);
  return leadFromRow(row);
}
