// Saving and reading leads: reference checks, normalization, and the upsert.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, LeadRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import { unknownFieldMessages, unknownFields } from '../http/unknown-fields.js';
import { formatLeadDateTime, parseLeadDateTime } from '../http/validation.js';
import { leadKey } from './lead.key.js';
import type { Lead, LeadInput, LeadWarning, SaveLeadRequest, SaveLeadResult } from './lead.model.js';
import * as repo from './lead.repository.js';
import { saveLeadBodySchema } from './lead.schemas.js';

/** Optional text: absent, null and "" all mean "not given". */
const opt = (value: string | null | undefined): string | null => (value === undefined || value === '' ? null : value);

export function normalizeLead(body: SaveLeadRequest): { lead: LeadInput; lastContactAt: number } {
  const lastContactAt = parseLeadDateTime(body.lastContactDate);
  // Schema validation already checked the format; this guards direct callers of the service.
  if (lastContactAt === undefined) {
    throw new AppError('VALIDATION_FAILED', "Field 'lastContactDate' must be a date-time in the format yyyy-MM-dd HH:mm:ssZ");
  }
  const lead: LeadInput = {
    customer: { uuid: body.customer.uuid },
    vehicle: {
      uuid: body.vehicle.uuid,
      trackingId: opt(body.vehicle.trackingId),
      topic: opt(body.vehicle.topic),
      description: opt(body.vehicle.description),
    },
    dealerDetails: {
      name: opt(body.dealerDetails.name),
      code: opt(body.dealerDetails.code),
      source: body.dealerDetails.source,
    },
    services: body.services.map((s) => ({ name: opt(s.name), code: s.code, type: opt(s.type), dueDate: opt(s.dueDate) })),
    campaign: body.campaign ? { name: opt(body.campaign.name), code: opt(body.campaign.code) } : null,
    status: body.status,
    lastContactDate: formatLeadDateTime(lastContactAt),
    leadId: opt(body.leadId),
    webId: opt(body.webId),
    leadType: body.leadType,
  };
  return { lead, lastContactAt };
}

async function checkReferences(db: Kysely<Database>, dealerUuid: string, lead: LeadInput): Promise<LeadWarning[]> {
  const refs = await repo.findReferences(db, dealerUuid, lead.customer.uuid, lead.vehicle.uuid);
  if (refs.dealer === null) throw new AppError('DEALER_NOT_FOUND', `Dealer ${dealerUuid} does not exist`);
  if (refs.customer === null) {
    throw new AppError('CUSTOMER_NOT_FOUND', `customer.uuid ${lead.customer.uuid} is not a customer of dealer ${dealerUuid}`);
  }
  if (refs.vehicle === null) {
    throw new AppError('VEHICLE_NOT_FOUND', `vehicle.uuid ${lead.vehicle.uuid} is not a vehicle of dealer ${dealerUuid}`);
  }
  if (refs.vehicleCustomer !== refs.customer) {
    return [
      {
        warningCode: 'VEHICLE_CUSTOMER_MISMATCH',
        warningDescription: `vehicle.uuid ${refs.vehicle} is registered to another customer of this dealer`,
      },
    ];
  }
  return [];
}

/**
 * Everything about a save that needs no database: unknown-field warnings, normalization, the
 * lead's key and the columns to write. Done on the request's thread; the plan is plain data, so
 * it can be handed to the storage thread (src/storage/) that writes it.
 */
export interface LeadSavePlan {
  readonly dealerUuid: string;
  readonly lead: LeadInput;
  readonly key: string;
  readonly changes: repo.LeadChanges;
  readonly warnings: readonly LeadWarning[];
}

export function planLeadSave(dealerUuid: string, body: SaveLeadRequest, now = Date.now()): LeadSavePlan {
  const warnings: LeadWarning[] = unknownFieldMessages(unknownFields(saveLeadBodySchema, body), 'the lead contract').map(
    (warningDescription) => ({ warningCode: 'UNKNOWN_FIELD', warningDescription }),
  );
  const { lead, lastContactAt } = normalizeLead(body);
  const changes: repo.LeadChanges = {
    lead_id: lead.leadId,
    web_id: lead.webId,
    customer_uuid: lead.customer.uuid,
    vehicle_uuid: lead.vehicle.uuid,
    source: lead.dealerDetails.source,
    status: lead.status,
    lead_type: lead.leadType,
    last_contact_at: lastContactAt,
    body: JSON.stringify(lead),
    updated_at: now,
  };
  return { dealerUuid, lead, key: leadKey(lead), changes, warnings };
}

/**
 * The database part of a save, inside the caller's transaction (the storage thread's batch):
 * the reference checks, then one upsert. A refused reference throws before anything is written;
 * the only write is the last statement, so a lead never leaves half its work in a batch.
 */
export async function writeLead(trx: Kysely<Database>, plan: LeadSavePlan): Promise<SaveLeadResult> {
  const { dealerUuid, lead, key, changes } = plan;
  const warnings = [...plan.warnings, ...(await checkReferences(trx, dealerUuid, lead))];
  const saved = await repo.upsertLead(
    trx,
    { ...changes, prospect_uuid: randomUUID(), dealer_uuid: dealerUuid, lead_key: key, save_count: 1, created_at: changes.updated_at },
    changes,
  );
  return { isNewCreated: saved.created, prospectUuid: saved.prospectUuid, warnings };
}

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
