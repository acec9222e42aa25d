// What a dealer's data looks like from the inside: the chat summaries the pipeline stored for it
// and the leads partners saved for it, newest first, in pages that neither repeat nor skip a row
// when new ones arrive between two pages (keyset pagination on immutable columns).
import type { Kysely, Selectable } from 'kysely';
import { AppError } from '../core/errors.js';
import type { ChatSummariesTable, Database, LeadRow } from '../db/schema.js';
import type { Lead } from '../leads/lead.model.js';
import { getLead } from '../leads/lead.read.js';
import { findLead } from '../leads/lead.repository.js';
import { adfDocuments } from '../outbox/adf-payload.js';
import { decodeCursor } from './cursor.js';
import { type Page, type PageRequest, pageOf, pastPair } from './page.js';
import { getDealer } from './resources/dealers.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** `since` inclusive, `until` exclusive, as epoch ms. */
export interface TimeWindow {
  readonly since?: number;
  readonly until?: number;
}

export interface ChatSummary {
  readonly requestId: string;
  readonly dealerUuid: string;
  readonly vehicleUuid: string | null;
  readonly customerUuid: string | null;
  readonly vin: string | null;
  readonly chatCode: string | null;
  readonly eventTimestamp: string;
  readonly escalated: boolean | null;
  readonly record: Record<string, unknown>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const chatSummaryFromRow = (r: Selectable<ChatSummariesTable>): ChatSummary => ({
  requestId: r.request_id,
  dealerUuid: r.dealer_uuid,
  vehicleUuid: r.vehicle_uuid,
  customerUuid: r.customer_uuid,
  vin: r.vin,
  chatCode: r.chat_code,
  eventTimestamp: iso(r.event_timestamp),
  escalated: r.escalation_flag === null ? null : r.escalation_flag === 1,
  record: JSON.parse(r.record) as Record<string, unknown>,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

/**
 * Newest first by (event_timestamp, request_id) — when the chat happened, on the
 * (dealer_uuid, event_timestamp) index. Neither column changes when an event is processed again
 * with the same record, and request_id breaks ties, so the cursor (the last row's key) is exact.
 */
export async function listChatSummaries(
  db: Kysely<Database>,
  dealerUuid: string,
  filter: TimeWindow & { escalated?: boolean; vin?: string },
  page: PageRequest,
): Promise<Page<ChatSummary>> {
  await getDealer(db, dealerUuid);
  let q = db.selectFrom('chat_summaries').selectAll().where('dealer_uuid', '=', dealerUuid);
  if (filter.escalated !== undefined) q = q.where('escalation_flag', '=', filter.escalated ? 1 : 0);
  if (filter.vin !== undefined) q = q.where('vin', '=', filter.vin);
  if (filter.since !== undefined) q = q.where('event_timestamp', '>=', filter.since);
  if (filter.until !== undefined) q = q.where('event_timestamp', '<', filter.until);
  if (page.cursor !== undefined) q = q.where(pastPair(['event_timestamp', 'request_id'], decodeCursor(page.cursor, 'ns'), '<'));
  const rows = await q
    .orderBy('event_timestamp', 'desc')
    .orderBy('request_id', 'desc')
    .limit(page.limit + 1)
    .execute();
  return pageOf(rows, page.limit, chatSummaryFromRow, (r) => [r.event_timestamp, r.request_id]);
}

export interface LeadSummary {
  readonly prospectUuid: string;
  readonly leadId: string | null;
  readonly webId: string | null;
  readonly customerUuid: string;
  /** "first last" of the customer as provisioned; null when it has neither. */
  readonly customerName: string | null;
  readonly vehicleUuid: string;
  /** The vehicle's VIN as provisioned, or null. */
  readonly vin: string | null;
  readonly source: string;
  readonly status: string;
  readonly leadType: string;
  readonly lastContactAt: string;
  readonly saveCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

type LeadListRow = Omit<LeadRow, 'body' | 'lead_key' | 'dealer_uuid' | 'saved_by'> & {
  readonly first_name: string | null;
  readonly last_name: string | null;
  readonly vin: string | null;
};

const fullName = (first: string | null, last: string | null): string | null =>
  [first, last].filter((part) => part !== null && part.trim() !== '').join(' ') || null;

const leadSummaryFromRow = (r: LeadListRow): LeadSummary => ({
  prospectUuid: r.prospect_uuid,
  leadId: r.lead_id,
  webId: r.web_id,
  customerUuid: r.customer_uuid,
  customerName: fullName(r.first_name, r.last_name),
  vehicleUuid: r.vehicle_uuid,
  vin: r.vin,
  source: r.source,
  status: r.status,
  leadType: r.lead_type,
  lastContactAt: iso(r.last_contact_at),
  saveCount: r.save_count,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

/**
 * Newest first by (created_at, prospect_uuid): a lead saved again moves its updated_at, never
 * its created_at, so re-saves between two pages cannot repeat or skip a lead. since/until
 * filter on created_at too. Each lead names its customer and its vehicle's VIN (two primary-key
 * lookups per row of the page), which is what staff recognise, not the ids.
 */
export async function listLeads(
  db: Kysely<Database>,
  dealerUuid: string,
  filter: TimeWindow & { status?: string; leadType?: string },
  page: PageRequest,
): Promise<Page<LeadSummary>> {
  await getDealer(db, dealerUuid);
  let q = db
    .selectFrom('leads as l')
    // The foreign keys guarantee both rows; left joins all the same, so a lead is never dropped.
    .leftJoin('customers as c', 'c.uuid', 'l.customer_uuid')
    .leftJoin('vehicles as v', 'v.uuid', 'l.vehicle_uuid')
    .select([
      'l.prospect_uuid',
      'l.lead_id',
      'l.web_id',
      'l.customer_uuid',
      'l.vehicle_uuid',
      'l.source',
      'l.status',
      'l.lead_type',
      'l.last_contact_at',
      'l.save_count',
      'l.created_at',
      'l.updated_at',
      'c.first_name',
      'c.last_name',
      'v.vin',
    ])
    .where('l.dealer_uuid', '=', dealerUuid);
  if (filter.status !== undefined) q = q.where('l.status', '=', filter.status);
  if (filter.leadType !== undefined) q = q.where('l.lead_type', '=', filter.leadType);
  if (filter.since !== undefined) q = q.where('l.created_at', '>=', filter.since);
  if (filter.until !== undefined) q = q.where('l.created_at', '<', filter.until);
  if (page.cursor !== undefined) q = q.where(pastPair(['l.created_at', 'l.prospect_uuid'], decodeCursor(page.cursor, 'ns'), '<'));
  const rows = await q
    .orderBy('l.created_at', 'desc')
    .orderBy('l.prospect_uuid', 'desc')
    .limit(page.limit + 1)
    .execute();
  return pageOf(rows, page.limit, leadSummaryFromRow, (r) => [r.created_at, r.prospect_uuid]);
}

/**
 * The ADF document a CRM would receive for the lead's last save (an adf-xml or email
 * destination), made from the customer and vehicle as provisioned now.
 */
export async function getDealerLeadAdf(db: Kysely<Database>, dealerUuid: string, prospectUuid: string): Promise<string> {
  const lead = await getDealerLead(db, dealerUuid, prospectUuid);
  const row = await findLead(db, dealerUuid, prospectUuid);
  const change = lead.saveCount > 1 ? 'updated' : 'created';
  const [document] = await adfDocuments(db, [{ lead, change, partner: row?.saved_by ?? null }]);
  if (!document?.ok) throw new AppError('ADF_NO_CONTACT', document?.message ?? 'no ADF document could be made');
  return document.xml;
}

/** One lead with its saved body (the same view the partner API's read gives). */
export async function getDealerLead(db: Kysely<Database>, dealerUuid: string, prospectUuid: string): Promise<Lead> {
  await getDealer(db, dealerUuid);
  return getLead(db, dealerUuid, prospectUuid);
}
