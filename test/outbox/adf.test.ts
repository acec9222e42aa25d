// The ADF 1.0 document of a saved lead (src/outbox/adf.ts): every document a set of leads gives
// is valid against the ADF 1.0 DTD (xmllint, test/fixtures/adf/adf-1.0.dtd) and reads back, with
// an ordinary XML parser, to the values that went in, minus the characters XML 1.0 forbids.
// xmllint comes from the libxml2-utils package (.ci/run installs it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import type { Lead } from '../../src/leads/lead.model.js';
import { type AdfLead, adfDocument, UNKNOWN_NAME } from '../../src/outbox/adf.js';
import { xmllint } from '../helpers/adf.js';

const PROSPECT = '019ab3c2-0000-7000-8000-000000000001';

const lead: Lead = {
  prospectUuid: PROSPECT,
  dealerUuid: 'd-1',
  customer: { uuid: 'c-1' },
  vehicle: { uuid: 'v-1', trackingId: '2-I509U2C', topic: 'WITH_CONTRACT', description: 'Brakes squeal' },
  dealerDetails: { name: 'Test Imports LLC', code: 'TI-1', source: 'MMC' },
  services: [
    { name: 'Maintenance - Service A', code: 'MBVANS-A', type: 'business', dueDate: '2023-06-01' },
    { name: null, code: 'RECALL-23V', type: null, dueDate: null },
  ],
  campaign: { name: 'MBVANS', code: 'A' },
  status: 'NEW',
  lastContactDate: '2023-06-08 11:00:00Z',
  leadId: 'US000000111199002',
  webId: '2-39484871796',
  leadType: 'RECALL',
  saveCount: 1,
  createdAt: '2026-12-07T09:00:00.000Z',
  updatedAt: '2026-12-07T10:00:00.000Z',
};

const base: AdfLead = {
  lead,
  change: 'created',
  customer: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '+1 206 555 0100' },
  vehicle: { vin: 'WDB9066331S123456', year: 2019, make: 'Mercedes-Benz', model: 'Sprinter' },
  dealer: { uuid: 'd-1', name: 'Bellevue Vans' },
  partner: 'acme-leads',
};

const with_ = (over: Partial<AdfLead>, leadOver: Partial<Lead> = {}): AdfLead => ({ ...base, ...over, lead: { ...lead, ...leadOver } });

const ODD = {
  emoji: 'Zoë 👩🏽‍🔧 🚐',
  rtl: 'שלום עליכם مرحبا',
  combining: 'Jose\u0301 Zoe\u0308 a\u0308\u0301',
  astral: '𝒜𝓁𝒾𝒸𝑒 𠜎 🀄',
  markup: `<b>Tom & "Jerry's"</b> ]]> a > b`,
};

function assertValid(xml: string) {
  const r = xmllint(xml);
  assert.equal(r.status, 0, `xmllint rejected the document:\n${r.stderr}\n${xml}`);
}

type Node = { '#text'?: string; [attribute: `@${string}`]: string };
interface Parsed {
  prospect: Node & {
    id: Node[];
    requestdate: Node;
    vehicle: Node & { id: Node[]; year: Node; make: Node; model: Node; vin?: Node };
    customer: { contact: { name: Node[]; email?: Node; phone?: Node[] }; id: Node[]; comments: Node };
    vendor: { id: Node[]; vendorname: Node; contact: { name: Node[] } };
    provider: { name: Node[]; service: Node };
  };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  alwaysCreateTextNode: true,
  isArray: (name) => ['id', 'name', 'phone'].includes(name),
});

/** Builds, validates and parses: the one path every document takes in these tests. */
function build(input: AdfLead) {
  const result = adfDocument(input);
  assert.ok(result.ok, `expected a document, got ${JSON.stringify(result)}`);
  assertValid(result.xml);
  const adf = parser.parse(result.xml).adf as Parsed;
  return { xml: result.xml, p: adf.prospect };
}

const texts = (nodes: Node[] | undefined) => (nodes ?? []).map((n) => n['#text'] ?? '');
const byPart = (names: Node[]) => Object.fromEntries(names.map((n) => [n['@part'], n['#text']]));

before(() => {
  const r = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
  assert.ok(!r.error, 'xmllint is missing: install libxml2-utils (apt-get install -y libxml2-utils)');
});

describe('ADF 1.0 document of a saved lead', () => {
  test('a created lead: declaration, processing instruction, every field in its place', () => {
    const { xml, p } = build(base);
    assert.match(xml, /^<\?xml version="1\.0"\?>\n<\?adf version="1\.0"\?>\n<adf>/);
    assert.equal(p['@status'], 'new');
    assert.deepEqual(
      p.id.map((i) => [i['@sequence'], i['@source'], i['#text']]),
      [
        ['1', 'acme-leads', 'US000000111199002'],
        ['2', 'dealer-gateway', PROSPECT],
      ],
    );
    assert.equal(p.requestdate['#text'], '2026-12-07T10:00:00+00:00');

    assert.equal(p.vehicle['@interest'], 'buy');
    assert.equal(p.vehicle['@status'], 'used');
    assert.deepEqual(texts(p.vehicle.id), ['v-1']);
    assert.deepEqual(
      [p.vehicle.year, p.vehicle.make, p.vehicle.model, p.vehicle.vin].map((n) => n?.['#text']),
      ['2019', 'Mercedes-Benz', 'Sprinter', 'WDB9066331S123456'],
    );

    const contact = p.customer.contact;
    assert.deepEqual(byPart(contact.name), { first: 'Ada', last: 'Lovelace' });
    assert.equal(contact.email?.['#text'], 'ada@example.com');
    assert.deepEqual(texts(contact.phone), ['+1 206 555 0100']);
    assert.deepEqual(texts(p.customer.id), ['c-1']);

    assert.deepEqual(texts(p.vendor.id), ['d-1']);
    assert.equal(p.vendor.vendorname['#text'], 'Bellevue Vans');
    assert.deepEqual(texts(p.vendor.contact.name), ['Bellevue Vans']);
    assert.deepEqual(texts(p.provider.name), ['acme-leads']);
    assert.equal(p.provider.service['#text'], 'MMC; campaign: MBVANS (code A)');

    assert.deepEqual(p.customer.comments['#text']?.split('\n'), [
      'Lead type: RECALL',
      'Status: NEW',
      'Web ID: 2-39484871796',
      'Campaign: MBVANS (code A)',
      'Service: Maintenance - Service A (code MBVANS-A, type business, due 2023-06-01)',
      'Service: (code RECALL-23V)',
      'Vehicle tracking ID: 2-I509U2C',
      'Topic: WITH_CONTRACT',
      'Description: Brakes squeal',
      'Last contact: 2023-06-08 11:00:00Z',
      'Dealer (as the partner names it): Test Imports LLC (code TI-1, source MMC)',
    ]);
  });

  test('an updated lead is a resend; a null leadId gives the prospect UUID as the partner id', () => {
    const { p } = build(with_({ change: 'updated' }, { leadId: null }));
    assert.equal(p['@status'], 'resend');
    assert.deepEqual(texts(p.id), [PROSPECT, PROSPECT]);
    assert.deepEqual(
      p.id.map((i) => i['@source']),
      ['acme-leads', 'dealer-gateway'],
    );
  });

  test('odd Unicode and markup characters come back exactly, in text and attributes', () => {
    const odd = Object.values(ODD);
    const { xml, p } = build(
      with_(
        {
          customer: { firstName: ODD.emoji, lastName: ODD.rtl, email: ODD.markup, phone: ODD.astral },
          vehicle: { vin: null, year: 2020, make: ODD.combining, model: ODD.markup },
          dealer: { uuid: 'd-1', name: ODD.markup },
          partner: ODD.markup,
        },
        {
          vehicle: { ...lead.vehicle, description: odd.join(' | ') },
          services: [{ name: ODD.rtl, code: ODD.markup, type: ODD.emoji, dueDate: null }],
          campaign: { name: ODD.astral, code: ODD.combining },
        },
      ),
    );
    assert.ok(!xml.includes('<b>'), 'markup must be escaped');
    assert.deepEqual(byPart(p.customer.contact.name), { first: ODD.emoji, last: ODD.rtl });
    assert.equal(p.customer.contact.email?.['#text'], ODD.markup);
    assert.deepEqual(texts(p.customer.contact.phone), [ODD.astral]);
    assert.equal(p.vehicle.make['#text'], ODD.combining);
    assert.equal(p.vehicle.model['#text'], ODD.markup);
    assert.equal(p.vendor.vendorname['#text'], ODD.markup);
    assert.equal(p.id[0]?.['@source'], ODD.markup);
    assert.deepEqual(texts(p.provider.name), [ODD.markup]);
    const comments = p.customer.comments['#text'] ?? '';
    assert.ok(comments.includes(`Description: ${odd.join(' | ')}`), comments);
    assert.ok(comments.includes(`Service: ${ODD.rtl} (code ${ODD.markup}, type ${ODD.emoji})`), comments);
    assert.ok(comments.includes(`Campaign: ${ODD.astral} (code ${ODD.combining})`), comments);
  });

  test('characters XML 1.0 forbids are removed from every value; tabs and newlines stay', () => {
    const bad = 'A\u0000B\u0007C\u000BD\u000CE\u001FF\uFFFEG\uFFFFH\uD800I\uDFFFJ';
    const { xml, p } = build(
      with_(
        {
          customer: { firstName: bad, lastName: 'Tab\there', email: `x${bad}@example.com`, phone: `555\u00000100` },
          vehicle: { vin: `WDB906633\u00011S123456`, year: null, make: bad, model: 'M' },
          dealer: { uuid: 'd-1', name: bad },
          partner: `acme\u0002`,
        },
        { vehicle: { ...lead.vehicle, description: `line 1\r\nline 2\u001B` } },
      ),
    );
    // Nothing outside XML 1.0's Char production is left anywhere in the document.
    for (const ch of xml) {
      const cp = ch.codePointAt(0) ?? 0;
      assert.ok(
        cp === 0x9 || cp === 0xa || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000,
        `U+${cp.toString(16)}`,
      );
    }
    assert.deepEqual(byPart(p.customer.contact.name), { first: 'ABCDEFGHIJ', last: 'Tab\there' });
    assert.equal(p.customer.contact.email?.['#text'], 'xABCDEFGHIJ@example.com');
    assert.deepEqual(texts(p.customer.contact.phone), ['5550100']);
    assert.equal(p.vehicle.vin?.['#text'], 'WDB9066331S123456');
    assert.equal(p.vehicle.make['#text'], 'ABCDEFGHIJ');
    assert.equal(p.vendor.vendorname['#text'], 'ABCDEFGHIJ');
    assert.equal(p.id[0]?.['@source'], 'acme');
    assert.ok(p.customer.comments['#text']?.includes('Description: line 1\nline 2\n'));
  });

  test('email without phone, phone without email: the contact has what is known', () => {
    const noPhone = build(with_({ customer: { ...base.customer, phone: null } as AdfLead['customer'] })).p.customer.contact;
    assert.equal(noPhone.email?.['#text'], 'ada@example.com');
    assert.equal(noPhone.phone, undefined);
    const noEmail = build(with_({ customer: { ...base.customer, email: '  ' } as AdfLead['customer'] })).p.customer.contact;
    assert.equal(noEmail.email, undefined);
    assert.deepEqual(texts(noEmail.phone), ['+1 206 555 0100']);
  });

  test('neither email nor phone (or no customer at all): ADF_NO_CONTACT, no document', () => {
    for (const customer of [{ firstName: 'Ada', lastName: null, email: null, phone: '\u0000 ' }, null]) {
      const result = adfDocument(with_({ customer }));
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.equal(result.code, 'ADF_NO_CONTACT');
      assert.match(result.message, /email or phone: customer c-1 has neither/);
    }
  });

  test(`no name at all: one <name part="full">${UNKNOWN_NAME}</name>; one name part: only that one`, () => {
    const none = build(with_({ customer: { firstName: null, lastName: ' ', email: 'a@example.com', phone: null } })).p;
    assert.deepEqual(
      none.customer.contact.name.map((n) => [n['@part'], n['#text']]),
      [['full', UNKNOWN_NAME]],
    );
    const lastOnly = build(with_({ customer: { firstName: null, lastName: 'Lovelace', email: 'a@example.com', phone: null } })).p;
    assert.deepEqual(byPart(lastOnly.customer.contact.name), { last: 'Lovelace' });
  });

  test('a vehicle without year, make, model or VIN (or none provisioned): empty elements, no <vin>', () => {
    for (const vehicle of [{ vin: null, year: null, make: null, model: null }, null]) {
      const { xml, p } = build(with_({ vehicle }));
      assert.match(xml, /<year\/>\s*<make\/>\s*<model\/>/);
      assert.equal(p.vehicle.vin, undefined);
      assert.deepEqual(texts(p.vehicle.id), ['v-1']);
    }
  });

  test('no campaign: no campaign line, provider service is the source alone', () => {
    const { p } = build(with_({}, { campaign: null, webId: null }));
    assert.equal(p.provider.service['#text'], 'MMC');
    const comments = p.customer.comments['#text'] ?? '';
    assert.ok(!comments.includes('Campaign'), comments);
    assert.ok(!comments.includes('Web ID'), comments);
    assert.ok(comments.includes('MBVANS-A') && comments.includes('RECALL-23V'), comments);
  });

  test('interest: a leadType naming an ADF interest is used, anything else is buy', () => {
    const interest = (leadType: string) => build(with_({}, { leadType })).p.vehicle['@interest'];
    assert.equal(interest('TEST_DRIVE'), 'test-drive');
    assert.equal(interest('lease'), 'lease');
    assert.equal(interest('SERVICE_DEMAND'), 'buy');
  });
});

describe('the validation is not vacuous', () => {
  const valid = () => {
    const result = adfDocument(base);
    assert.ok(result.ok);
    return result.xml;
  };

  test('xmllint rejects a prospect without customer, a bad status and a missing vendorname', () => {
    const cases: [string, RegExp][] = [
      [valid().replace(/<customer>[\s\S]*<\/customer>/, ''), /prospect content does not follow the DTD/],
      [valid().replace('status="new"', 'status="pending"'), /status/],
      [valid().replace(/<vendorname>.*<\/vendorname>/, ''), /vendor content does not follow the DTD/],
      [valid().replace(/<year>.*<\/year>/, ''), /vehicle content does not follow the DTD/],
    ];
    assertValid(valid());
    for (const [xml, reason] of cases) {
      const r = xmllint(xml);
      assert.notEqual(r.status, 0, xml);
      assert.match(r.stderr, reason);
    }
  });

  test('a control character that reached the document would make it not even well-formed', () => {
    const r = xmllint(valid().replace('Ada', 'A\u0001da'));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /PCDATA invalid Char value 1/);
  });
});
