// The request thread's half of a lead save: unknown-field warnings, normalization, the lead's key
// and the columns to write, as a plan the storage thread then writes (src/leads/lead.write.ts).

import { formatLeadDateTime, parseLeadDateTime } from '../core/datetime.js';
import { AppError } from '../core/errors.js';
import { unknownFieldMessages, unknownFields } from '../core/unknown-fields.js';
import { leadKey } from '../leads/lead.key.js';
import type { LeadInput, LeadSavePlan, LeadWarning, SaveLeadRequest } from '../leads/lead.model.js';
import type { LeadChanges } from '../leads/lead.repository.js';
import { saveLeadBodySchema } from './lead.schemas.js';

/** Optional text: absent, null and "" all mean "not given". */
const opt = (value: string | null | undefined): string | null => (value === undefined || value === '' ? null : value);

function normalizeLead(body: SaveLeadRequest): { lead: LeadInput; lastContactAt: number } {
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

/** `partner`: the subscriber saving it (kept as the lead's saved_by: an ADF document's provider). */
export function planLeadSave(dealerUuid: string, body: SaveLeadRequest, partner: string | null = null, now = Date.now()): LeadSavePlan {
  const warnings: LeadWarning[] = unknownFieldMessages(unknownFields(saveLeadBodySchema, body), 'the lead contract').map(
    (warningDescription) => ({ warningCode: 'UNKNOWN_FIELD', warningDescription }),
  );
  const { lead, lastContactAt } = normalizeLead(body);
  const changes: LeadChanges = {
    lead_id: lead.leadId,
    web_id: lead.webId,
    customer_uuid: lead.customer.uuid,
    vehicle_uuid: lead.vehicle.uuid,
    source: lead.dealerDetails.source,
    status: lead.status,
    lead_type: lead.leadType,
    last_contact_at: lastContactAt,
    body: JSON.stringify(lead),
    saved_by: partner,
    updated_at: now,
  };
  return { dealerUuid, lead, key: leadKey(lead), changes, warnings };
}
