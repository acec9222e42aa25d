// A saved lead as an ADF 1.0 document (Auto-lead Data Format, XML 1.0), the format dealership
// CRMs take leads in. Pure: plain data in, a string or a refusal out; delivery is elsewhere.
// Built with xmlbuilder2, which escapes text and attributes; nothing is concatenated into XML.
// The field-by-field mapping and its decisions are in docs/api.md; the DTD the tests validate
// against is test/fixtures/adf/adf-1.0.dtd.

import { create } from 'xmlbuilder2';

type Text = string | null;

/**
 * What the document reads of a saved lead. The read API's Lead (leads/lead.model.ts) has all of
 * it; it is spelled out here because the outbox sits below the leads layer and imports nothing
 * from it.
 */
export interface SavedLead {
  readonly prospectUuid: string;
  readonly dealerUuid: string;
  readonly customer: { readonly uuid: string };
  readonly vehicle: { readonly uuid: string; readonly trackingId: Text; readonly topic: Text; readonly description: Text };
  readonly dealerDetails: { readonly name: Text; readonly code: Text; readonly source: string };
  readonly services: readonly { readonly name: Text; readonly code: string; readonly type: Text; readonly dueDate: Text }[];
  readonly campaign: { readonly name: Text; readonly code: Text } | null;
  readonly status: string;
  readonly lastContactDate: string;
  readonly leadId: Text;
  readonly webId: Text;
  readonly leadType: string;
  readonly updatedAt: string;
}
/** xmlbuilder2's node (its index does not export the type). */
type XMLBuilder = ReturnType<typeof create>;

/** Everything the document needs. */
export interface AdfLead {
  /** The lead as the read API returns it. */
  readonly lead: SavedLead;
  readonly change: 'created' | 'updated';
  /** The provisioned customer; null when the customer is unknown. */
  readonly customer: { readonly firstName: Text; readonly lastName: Text; readonly email: Text; readonly phone: Text } | null;
  /** The provisioned vehicle; null when the vehicle is unknown. */
  readonly vehicle: { readonly vin: Text; readonly year: number | null; readonly make: Text; readonly model: Text } | null;
  readonly dealer: { readonly uuid: string; readonly name: string };
  /** The partner's username. */
  readonly partner: string;
}

export type AdfResult = { ok: true; xml: string } | { ok: false; code: 'ADF_NO_CONTACT' | 'ADF_NOT_A_LEAD'; message: string };

/** Our own ids (prospect, customer, vehicle, dealer) carry this source. */
const SELF = 'dealer-gateway';
/** ADF 1.0 requires a name: used when the customer has neither first nor last name. */
export const UNKNOWN_NAME = 'Unknown';
const INTERESTS = ['buy', 'lease', 'sell', 'trade-in', 'test-drive'] as const;

/** XML 1.0's Char production: anything else (most C0 controls, U+FFFE/U+FFFF, lone surrogates) cannot appear in a document at all. */
const isXmlChar = (cp: number) =>
  cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000;

/**
 * Every value goes through this before it reaches the builder: characters XML 1.0 forbids are
 * removed (not escaped: no escape exists for them), and line ends become \n, as any XML parser
 * would read them anyway. Iterating a string yields code points, so a lone surrogate is one item.
 */
function xmlText(value: string): string {
  let out = '';
  for (const ch of value) if (isXmlChar(ch.codePointAt(0) ?? 0)) out += ch;
  return out.replace(/\r\n?/g, '\n');
}

/** The cleaned value, or null when nothing but blanks is left. */
const present = (value: Text | undefined): string | null => {
  if (value === null || value === undefined) return null;
  const clean = xmlText(value);
  return clean.trim() === '' ? null : clean;
};

/** `2026-12-07T10:00:00+00:00`: ADF wants ISO 8601 with an explicit offset; ours is always UTC. */
const isoWithOffset = (instant: string) => new Date(instant).toISOString().replace(/\.\d{3}Z$/, '+00:00');

/** leadType when it names an ADF interest (`TEST_DRIVE` → test-drive); otherwise `buy`, ADF's own default. */
function interestOf(leadType: string): (typeof INTERESTS)[number] {
  const candidate = leadType.trim().toLowerCase().replace(/_/g, '-');
  return INTERESTS.find((i) => i === candidate) ?? 'buy';
}

/** "label: main (k1 v1, k2 v2)" with the absent parts left out; null when nothing is known. */
function line(label: string, main: Text, details: readonly [string, Text][] = []): string | null {
  const known = details.filter((d): d is [string, string] => present(d[1]) !== null).map(([k, v]) => `${k} ${v}`);
  const head = present(main);
  if (head === null && known.length === 0) return null;
  const tail = known.length > 0 ? `(${known.join(', ')})` : '';
  return `${label}: ${[head, tail].filter(Boolean).join(' ')}`;
}

/** The lead's own fields, one readable line each, for the customer's <comments>. */
function commentLines(lead: SavedLead): string[] {
  const c = lead.campaign;
  const lines = [
    line('Lead type', lead.leadType),
    line('Status', lead.status),
    line('Web ID', lead.webId),
    line('Campaign', c?.name ?? null, [['code', c?.code ?? null]]),
    ...lead.services.map((s) =>
      line('Service', s.name, [
        ['code', s.code],
        ['type', s.type],
        ['due', s.dueDate],
      ]),
    ),
    line('Vehicle tracking ID', lead.vehicle.trackingId),
    line('Topic', lead.vehicle.topic),
    line('Description', lead.vehicle.description),
    line('Last contact', lead.lastContactDate),
    line('Dealer (as the partner names it)', lead.dealerDetails.name, [
      ['code', lead.dealerDetails.code],
      ['source', lead.dealerDetails.source],
    ]),
  ];
  return lines.filter((l): l is string => l !== null).map(xmlText);
}

/** An element with cleaned text; an empty element when the value is absent. */
const text = (parent: XMLBuilder, name: string, value: Text, attributes: Record<string, string> = {}) =>
  parent
    .ele(name, attributes)
    .txt(present(value) ?? '')
    .up();

export function adfDocument(input: AdfLead): AdfResult {
  const { lead, customer, vehicle, dealer } = input;
  const partner = xmlText(input.partner);
  const email = present(customer?.email);
  const phone = present(customer?.phone);
  // ADF requires a way to reach the customer; a document without one is refused by CRMs, so
  // refuse it here, with a reason an operator can act on (it shows as the delivery's error).
  if (email === null && phone === null) {
    return {
      ok: false,
      code: 'ADF_NO_CONTACT',
      message: `ADF needs the customer's email or phone: customer ${lead.customer.uuid} has neither (provision one, then save the lead again)`,
    };
  }

  const doc = create({ version: '1.0' });
  doc.ins('adf', 'version="1.0"');
  const prospect = doc.ele('adf').ele('prospect', { status: input.change === 'updated' ? 'resend' : 'new' });
  text(prospect, 'id', lead.leadId ?? lead.prospectUuid, { sequence: '1', source: partner });
  text(prospect, 'id', lead.prospectUuid, { sequence: '2', source: SELF });
  text(prospect, 'requestdate', isoWithOffset(lead.updatedAt));

  // The customer's own vehicle: status used. year, make and model are required by the DTD, so
  // they are empty elements when unknown (#PCDATA allows it) rather than invented values.
  const v = prospect.ele('vehicle', { interest: interestOf(lead.leadType), status: 'used' });
  text(v, 'id', lead.vehicle.uuid, { source: SELF });
  text(v, 'year', vehicle?.year == null ? null : String(vehicle.year));
  text(v, 'make', vehicle?.make ?? null);
  text(v, 'model', vehicle?.model ?? null);
  if (present(vehicle?.vin) !== null) text(v, 'vin', vehicle?.vin ?? null);

  const c = prospect.ele('customer');
  const contact = c.ele('contact');
  const first = present(customer?.firstName);
  const last = present(customer?.lastName);
  if (first !== null) text(contact, 'name', first, { part: 'first' });
  if (last !== null) text(contact, 'name', last, { part: 'last' });
  if (first === null && last === null) text(contact, 'name', UNKNOWN_NAME, { part: 'full' });
  if (email !== null) text(contact, 'email', email);
  if (phone !== null) text(contact, 'phone', phone);
  text(c, 'id', lead.customer.uuid, { source: SELF });
  text(c, 'comments', commentLines(lead).join('\n'));

  // The DTD's vendor needs a contact; the dealer's name is all we know of it.
  const vendor = prospect.ele('vendor');
  text(vendor, 'id', dealer.uuid, { source: SELF });
  text(vendor, 'vendorname', dealer.name);
  text(vendor.ele('contact'), 'name', dealer.name, { part: 'full', type: 'business' });

  // provider holds one <service>: the partner's source, then the campaign when there is one.
  const provider = prospect.ele('provider');
  text(provider, 'name', partner, { part: 'full', type: 'business' });
  const campaign = lead.campaign && line('campaign', lead.campaign.name, [['code', lead.campaign.code]]);
  text(provider, 'service', [lead.dealerDetails.source, campaign].filter(Boolean).join('; '));

  return { ok: true, xml: doc.end({ prettyPrint: true }) };
}
