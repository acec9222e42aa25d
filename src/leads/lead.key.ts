// What makes two saves the same lead, per dealer (documented in docs/api.md):
// - with a leadId: the leadId. Same leadId → same lead; different leadIds → different leads.
// - without one: the lead's identity — source, leadType, customer, vehicle, webId, campaign code
//   and the set of service codes. Re-posting it (even with a newer lastContactDate, or other
//   descriptive fields changed) updates the same lead instead of creating a duplicate.
// The key is stored in a column with a unique constraint per dealer, so the database settles races.
import { createHash } from 'node:crypto';
import type { LeadInput } from './lead.model.js';

export function leadKey(lead: LeadInput): string {
  if (lead.leadId !== null) return `leadId:${lead.leadId}`;
  const identity = [
    lead.dealerDetails.source,
    lead.leadType,
    lead.customer.uuid,
    lead.vehicle.uuid,
    lead.webId ?? '',
    lead.campaign?.code ?? '',
    [...new Set(lead.services.map((s) => s.code))].sort(),
  ];
  return `natural:${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}`;
}
