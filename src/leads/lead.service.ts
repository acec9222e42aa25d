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

/** A lead's reference check: refused (404/422) or accepted, with a warning when they disagree. */
function checkReferences(refs: repo.LeadReferences | undefined, dealerUuid: string, lead: LeadInput): LeadWarning[] {
  if (refs === undefined || refs.dealer === null) throw new AppError('DEALER_NOT_FOUND', `Dealer ${dealerUuid} does not exist`);
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

/** What became of one save of a batch: saved, or refused for its references (nothing written). */
export type LeadWriteResult = { readonly ok: true; readonly value: SaveLeadResult } | { readonly ok: false; readonly error: AppError };

/**
 * The database part of a batch of saves, inside the caller's transaction (the storage thread's
 * group commit), in a fixed number of statements whatever the batch size: one query checks every
 * lead's references, then one multi-row upsert per "round". A statement cannot update a row twice,
 * so saves of the same lead in one batch go to successive rounds, in their order: the first
 * creates it, the next ones update it and count. A refused reference writes nothing for that save.
 * PostgreSQL, 50 connections saving leads: two statements per save took ~300 µs of the storage
 * thread's CPU and ~400 µs of the server's per save (bench:cpu) — mostly round trips.
 */
export async function writeLeads(trx: Kysely<Database>, plans: readonly LeadSavePlan[]): Promise<LeadWriteResult[]> {
  const refs = await repo.findReferencesOfMany(
    trx,
    uniqueBy(
      plans.map((p) => ({ dealerUuid: p.dealerUuid, customerUuid: p.lead.customer.uuid, vehicleUuid: p.lead.vehicle.uuid })),
      (w) => repo.referencesKey(w.dealerUuid, w.customerUuid, w.vehicleUuid),
    ),
  );
  const results: LeadWriteResult[] = new Array(plans.length);
  const warnings: LeadWarning[][] = new Array(plans.length);
  const rounds: number[][] = [];
  const seen = new Map<string, number>();
  for (const [i, plan] of plans.entries()) {
    try {
      const found = refs.get(repo.referencesKey(plan.dealerUuid, plan.lead.customer.uuid, plan.lead.vehicle.uuid));
      warnings[i] = [...plan.warnings, ...checkReferences(found, plan.dealerUuid, plan.lead)];
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      results[i] = { ok: false, error };
      continue;
    }
    const key = repo.leadRowKey(plan.dealerUuid, plan.key);
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    if (rounds[round] === undefined) rounds[round] = [];
    rounds[round].push(i);
  }
  for (const round of rounds) {
    const saved = await repo.upsertLeads(
      trx,
      round.map((i) => {
        const { changes, dealerUuid, key } = plans[i] as LeadSavePlan;
        return {
          ...changes,
          prospect_uuid: randomUUID(),
          dealer_uuid: dealerUuid,
          lead_key: key,
          save_count: 1,
          created_at: changes.updated_at,
        };
      }),
    );
    for (const i of round) {
      const plan = plans[i] as LeadSavePlan;
      const row = saved.get(repo.leadRowKey(plan.dealerUuid, plan.key));
      if (row === undefined) throw new Error(`lead upsert returned no row for ${plan.key}`);
      results[i] = {
        ok: true,
        value: { isNewCreated: row.created, prospectUuid: row.prospectUuid, warnings: warnings[i] as LeadWarning[] },
      };
    }
  }
  return results;
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [key(item), item])).values()];
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
