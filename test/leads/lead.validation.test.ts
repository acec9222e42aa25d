// Leads v2 request validation: every rule of the contract (../shared/spec/save-a-lead.txt and
// contract-notes.md) answers a Spring-style 4xx body whose message names the field and the rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const writer = basic('writer', PASSWORD);
const multi = basic('multi', PASSWORD);
const other = basic('other', PASSWORD);
const reader = basic('reader', PASSWORD);

const SAVE_PATH = '/leads/v2/dealer/d-1';
/** Spring's `yyyy-MM-ddTHH:mm:ss.SSSZ`: a UTC `Z` or a numeric offset. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:?\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const REASON: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
};

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Matches `field` as a whole path: `customer` does not match inside `customer.uuid`. */
const namesField = (field: string) => new RegExp(`(^|[^\\w.\\[])${escapeRegExp(field)}($|[^\\w.\\[])`);

interface ExpectedClientError {
  readonly status: number;
  readonly errorCode: string | readonly string[];
  readonly path?: string;
  /** The field the message must name (as a whole path). */
  readonly field?: string;
  /** What the message must say about the rule. */
  readonly rule?: RegExp | readonly RegExp[];
}

/** Asserts the Spring Boot error body exactly, and returns it. */
function assertClientError(res: LightMyRequestResponse, expected: ExpectedClientError): Record<string, unknown> {
  assert.equal(res.statusCode, expected.status, `status (body: ${res.body})`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['error', 'errorCode', 'message', 'path', 'status', 'timestamp']);
  assert.match(String(body.timestamp), TIMESTAMP);
  assert.ok(!Number.isNaN(Date.parse(String(body.timestamp))), 'timestamp is a real instant');
  assert.equal(body.status, expected.status);
  assert.equal(body.error, REASON[expected.status]);
  const codes = typeof expected.errorCode === 'string' ? [expected.errorCode] : expected.errorCode;
  assert.ok(codes.includes(String(body.errorCode)), `errorCode ${String(body.errorCode)} is one of ${codes.join(', ')}`);
  assert.equal(body.path, expected.path ?? SAVE_PATH);
  assert.equal(typeof body.message, 'string');
  const message = body.message as string;
  if (expected.field !== undefined) assert.match(message, namesField(expected.field), `message names ${expected.field}`);
  const rules = expected.rule === undefined ? [] : Array.isArray(expected.rule) ? expected.rule : [expected.rule as RegExp];
  for (const rule of rules) assert.match(message, rule);
  return body;
}

/** leadBody() without the given top-level keys. */
function without(...keys: string[]): Record<string, unknown> {
  const body = leadBody();
  for (const k of keys) delete body[k];
  return body;
}

let seq = 0;
/** A fresh leadId, so that every valid save in this file creates its own lead. */
const freshId = (prefix: string) => `${prefix}-${++seq}`;

describeEachDialect('leads: validation', { fixture: baseFixture }, (ctx) => {
  const post = (payload: unknown, dealer = 'd-1', auth = writer) =>
    ctx().app.inject({ method: 'POST', url: `/leads/v2/dealer/${dealer}`, headers: { authorization: auth }, payload: payload as object });
  const postRaw = (payload: string, contentType?: string) =>
    ctx().app.inject({
      method: 'POST',
      url: SAVE_PATH,
      headers: { authorization: writer, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
      payload,
    });
  const read = (prospectUuid: string, dealer = 'd-1', auth = writer) =>
    ctx().app.inject({ method: 'GET', url: `/leads/v2/dealer/${dealer}/lead/${prospectUuid}`, headers: { authorization: auth } });
  const leadCount = async () => {
    const rows = await ctx().tdb.db.kysely.selectFrom('leads').select('prospect_uuid').execute();
    return rows.length;
  };
  /** Saves a valid body and returns the stored lead as GET shows it. */
  const saveAndRead = async (body: Record<string, unknown>) => {
    const res = await post(body);
    assert.equal(res.statusCode, 200, res.body);
    const saved = res.json();
    assert.match(saved.prospectUuid, UUID);
    const got = await read(saved.prospectUuid);
    assert.equal(got.statusCode, 200, got.body);
    return { saved, lead: got.json().lead };
  };

  test('the valid example body is accepted (baseline for every case below)', async () => {
    const res = await post(leadBody({ leadId: freshId('baseline') }));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().isNewCreated, true);
  });

  // --- required fields -------------------------------------------------------------------------

  const missing: { field: string; body: () => Record<string, unknown> }[] = [
    { field: 'customer', body: () => without('customer') },
    { field: 'vehicle', body: () => without('vehicle') },
    { field: 'dealerDetails', body: () => without('dealerDetails') },
    { field: 'services', body: () => without('services') },
    { field: 'status', body: () => without('status') },
    { field: 'lastContactDate', body: () => without('lastContactDate') },
    { field: 'leadType', body: () => without('leadType') },
    { field: 'customer.uuid', body: () => leadBody({ customer: {} }) },
    { field: 'vehicle.uuid', body: () => leadBody({ vehicle: { trackingId: '2-I509U2C', topic: 'WITH_CONTRACT' } }) },
    { field: 'dealerDetails.source', body: () => leadBody({ dealerDetails: { name: 'Test Imports LLC', code: 'TI-1' } }) },
    { field: 'services[0].code', body: () => leadBody({ services: [{ name: 'Service A', type: 'business', dueDate: '2023-06-01' }] }) },
    { field: 'services[1].code', body: () => leadBody({ services: [{ code: 'A' }, { name: 'no code here' }] }) },
  ];
  for (const { field, body } of missing) {
    test(`missing ${field} → 400 naming ${field} as required`, async () => {
      const before = await leadCount();
      assertClientError(await post(body()), { status: 400, errorCode: 'VALIDATION_FAILED', field, rule: /required/i });
      assert.equal(await leadCount(), before, 'nothing was saved');
    });
  }

  test('an empty required string is rejected as empty (customer.uuid, vehicle.uuid, services[0].code)', async () => {
    assertClientError(await post(leadBody({ customer: { uuid: '' } })), {
      status: 400,
      errorCode: 'VALIDATION_FAILED',
      field: 'customer.uuid',
      rule: /empty/i,
    });
    assertClientError(await post(leadBody({ vehicle: { uuid: '' } })), {
      status: 400,
      errorCode: 'VALIDATION_FAILED',
      field: 'vehicle.uuid',
      rule: /empty/i,
    });
    assertClientError(await post(leadBody({ services: [{ code: '' }] })), {
      status: 400,
      errorCode: 'VALIDATION_FAILED',
      field: 'services[0].code',
      rule: /empty/i,
    });
  });

  test('null for a required field is rejected (status, customer, services)', async () => {
    assertClientError(await post(leadBody({ status: null })), { status: 400, errorCode: 'VALIDATION_FAILED', field: 'status' });
    assertClientError(await post(leadBody({ customer: null })), {
      status: 400,
      errorCode: 'VALIDATION_FAILED',
      field: 'customer',
      rule: /object/,
    });
    assertClientError(await post(leadBody({ services: null })), {
      status: 400,
      errorCode: 'VALIDATION_FAILED',
      field: 'services',
      rule: /array/,
    });
  });

  // --- enums -----------------------------------------------------------------------------------

  const enums: { field: string; allowed: string[]; bad: unknown[]; body: (v: unknown) => Record<string, unknown> }[] = [
    { field: 'status', allowed: ['NEW'], bad: ['OPEN', 'new', 'NEW ', ''], body: (v) => leadBody({ status: v }) },
    {
      field: 'leadType',
      allowed: ['RECALL', 'SERVICE_DEMAND'],
      bad: ['SALES', 'recall', 'SERVICE-DEMAND'],
      body: (v) => leadBody({ leadType: v }),
    },
    {
      field: 'dealerDetails.source',
      allowed: ['MMC', 'BMW_SPARC', 'AUTOPOINT'],
      bad: ['XYZ', 'mmc', ''],
      body: (v) => leadBody({ dealerDetails: { name: 'Test Imports LLC', code: 'TI-1', source: v } }),
    },
  ];
  for (const { field, allowed, bad, body } of enums) {
    test(`${field} outside its enum → 400 listing ${allowed.join(', ')}`, async () => {
      for (const value of bad) {
        const err = assertClientError(await post(body(value)), {
          status: 400,
          errorCode: 'VALIDATION_FAILED',
          field,
          rule: /one of/i,
        });
        for (const a of allowed) assert.ok(String(err.message).includes(a), `message lists ${a}: ${String(err.message)}`);
      }
    });
    test(`every allowed ${field} value is accepted`, async () => {
      for (const value of allowed) {
        const res = await post({ ...body(value), leadId: freshId(`enum-${field}`) });
        assert.equal(res.statusCode, 200, `${field}=${value}: ${res.body}`);
      }
    });
  }

  // --- arrays ----------------------------------------------------------------------------------

  test('services as an empty array → 400 "at least 1 item"', async () => {
    assertClientError(await post(leadBody({ services: [] })), {
      status: 400,
      errorCode: 'VALIDATION_FAILED',
      field: 'services',
      rule: /at least 1/,
    });
  });

  test('more than 200 services → 400 naming the limit', async () => {
    const services = Array.from({ length: 201 }, (_, i) => ({ code: `S-${i}` }));
    assertClientError(await post(leadBody({ services })), {
      status: 400,
      errorCode: 'VALIDATION_FAILED',
      field: 'services',
      rule: /at most 200/,
    });
  });

  // --- wrong types (no coercion) ---------------------------------------------------------------

  const wrongTypes: { field: string; type: RegExp; body: () => Record<string, unknown> }[] = [
    { field: 'services', type: /array/, body: () => leadBody({ services: { code: 'MBVANS-A' } }) },
    { field: 'services', type: /array/, body: () => leadBody({ services: 'MBVANS-A' }) },
    { field: 'services[0]', type: /object/, body: () => leadBody({ services: ['MBVANS-A'] }) },
    { field: 'services[0]', type: /object/, body: () => leadBody({ services: [null] }) },
    { field: 'customer', type: /object/, body: () => leadBody({ customer: 'c-1' }) },
    { field: 'vehicle', type: /object/, body: () => leadBody({ vehicle: ['v-1'] }) },
    { field: 'dealerDetails', type: /object/, body: () => leadBody({ dealerDetails: 'MMC' }) },
    { field: 'campaign', type: /object/, body: () => leadBody({ campaign: 'MBVANS' }) },
    { field: 'customer.uuid', type: /string/, body: () => leadBody({ customer: { uuid: 1 } }) },
    { field: 'vehicle.uuid', type: /string/, body: () => leadBody({ vehicle: { uuid: 42 } }) },
    { field: 'vehicle.trackingId', type: /string/, body: () => leadBody({ vehicle: { uuid: 'v-1', trackingId: 2509 } }) },
    { field: 'services[0].code', type: /string/, body: () => leadBody({ services: [{ code: 42 }] }) },
    { field: 'services[0].name', type: /string/, body: () => leadBody({ services: [{ code: 'A', name: false }] }) },
    { field: 'leadId', type: /string/, body: () => leadBody({ leadId: 111199002 }) },
    { field: 'webId', type: /string/, body: () => leadBody({ webId: 239484871796 }) },
    { field: 'lastContactDate', type: /string/, body: () => leadBody({ lastContactDate: 1686222000000 }) },
    { field: 'status', type: /string/, body: () => leadBody({ status: ['NEW'] }) },
    { field: 'dealerDetails.source', type: /string/, body: () => leadBody({ dealerDetails: { source: true } }) },
  ];
  for (const { field, type, body } of wrongTypes) {
    test(`${field} of the wrong type (${JSON.stringify(fieldValue(body(), field))}) → 400, not coerced`, async () => {
      assertClientError(await post(body()), { status: 400, errorCode: 'VALIDATION_FAILED', field, rule: [/type/, type] });
    });
  }

  test('too long strings → 400 naming the length limit', async () => {
    assertClientError(await post(leadBody({ customer: { uuid: 'c'.repeat(65) } })), {
      status: 400,
      errorCode: 'VALIDATION_FAILED',
      field: 'customer.uuid',
      rule: /at most 64/,
    });
    assertClientError(await post(leadBody({ leadId: 'x'.repeat(256) })), {
      status: 400,
      errorCode: 'VALIDATION_FAILED',
      field: 'leadId',
      rule: /at most 255/,
    });
  });

  // --- services[].dueDate ----------------------------------------------------------------------

  for (const dueDate of ['2023-02-30', '2023-13-01', '2023-6-1', '2023-02-29', '2023-06-00', '2023-06-01T00:00:00Z', '01/06/2023']) {
    test(`dueDate ${dueDate} is not a calendar date yyyy-MM-dd → 400`, async () => {
      assertClientError(await post(leadBody({ services: [{ code: 'MBVANS-A', dueDate }] })), {
        status: 400,
        errorCode: 'VALIDATION_FAILED',
        field: 'services[0].dueDate',
        rule: /yyyy-MM-dd/,
      });
    });
  }

  test('dueDate of a later service is checked too (services[1].dueDate)', async () => {
    const services = [
      { code: 'A', dueDate: '2023-06-01' },
      { code: 'B', dueDate: '2023-02-30' },
    ];
    assertClientError(await post(leadBody({ services })), {
      status: 400,
      errorCode: 'VALIDATION_FAILED',
      field: 'services[1].dueDate',
      rule: /yyyy-MM-dd/,
    });
  });

  test('dueDate 2024-02-29 (leap day) is valid and stored as sent; null and absent are accepted', async () => {
    const { lead } = await saveAndRead(
      leadBody({
        leadId: freshId('leap'),
        services: [{ code: 'LEAP', dueDate: '2024-02-29' }, { code: 'NULL', dueDate: null }, { code: 'ABSENT' }],
      }),
    );
    assert.deepEqual(
      lead.services.map((s: { code: string; dueDate: string | null }) => [s.code, s.dueDate]),
      [
        ['LEAP', '2024-02-29'],
        ['NULL', null],
        ['ABSENT', null],
      ],
    );
  });

  test('dueDate "" (as in the contract’s request template) means "not given", like every other optional text', {}, async () => {
    const { lead } = await saveAndRead(leadBody({ leadId: freshId('empty-due'), services: [{ code: 'MBVANS-A', dueDate: '' }] }));
    assert.equal(lead.services[0].dueDate, null);
  });

  // --- lastContactDate -------------------------------------------------------------------------

  const instants: [sent: string, stored: string][] = [
    ['2023-06-08 11:00:00Z', '2023-06-08 11:00:00Z'],
    ['2023-06-08 11:00:00+05:30', '2023-06-08 05:30:00Z'],
    ['2023-06-08 11:00:00-0800', '2023-06-08 19:00:00Z'],
    ['2023-06-08 01:00:00+05:30', '2023-06-07 19:30:00Z'],
    ['2024-02-29 23:59:59Z', '2024-02-29 23:59:59Z'],
  ];
  for (const [sent, stored] of instants) {
    test(`lastContactDate '${sent}' is valid and stored as the UTC instant '${stored}'`, async () => {
      const { lead } = await saveAndRead(leadBody({ leadId: freshId('lcd'), lastContactDate: sent }));
      assert.equal(lead.lastContactDate, stored);
    });
  }

  const badInstants = [
    '2023-06-08T11:00:00Z', // ISO 'T' form
    '2023-06-08T11:00:00.000Z',
    '2023-06-08 11:00:00', // no zone
    '2023-06-08 11:00Z', // no seconds
    '2023-06-08 25:00:00Z',
    '2023-06-08 11:60:00Z',
    '2023-06-08 11:00:60Z',
    '2023-02-30 11:00:00Z',
    '2023-02-29 11:00:00Z',
    '2023-6-8 11:00:00Z',
    '2023-06-08 11:00:00+19:00', // no such offset
    '2023-06-08 11:00:00 UTC',
    '',
  ];
  for (const value of badInstants) {
    test(`lastContactDate '${value}' → 400 naming the format`, async () => {
      assertClientError(await post(leadBody({ lastContactDate: value })), {
        status: 400,
        errorCode: 'VALIDATION_FAILED',
        field: 'lastContactDate',
        rule: /yyyy-MM-dd HH:mm:ssZ/,
      });
    });
  }

  // --- the body itself -------------------------------------------------------------------------

  test('invalid JSON → 400 INVALID_JSON', async () => {
    assertClientError(await postRaw('{"customer": {"uuid": "c-1"', 'application/json'), {
      status: 400,
      errorCode: 'INVALID_JSON',
      rule: /JSON/,
    });
    assertClientError(await postRaw("{'customer': 1}", 'application/json'), { status: 400, errorCode: 'INVALID_JSON', rule: /JSON/ });
  });

  test('empty body with Content-Type application/json → 400 INVALID_JSON "empty"', async () => {
    assertClientError(await postRaw('', 'application/json'), { status: 400, errorCode: 'INVALID_JSON', rule: /empty/i });
  });

  test('no body and no Content-Type → 400 naming the body', async () => {
    assertClientError(await ctx().app.inject({ method: 'POST', url: SAVE_PATH, headers: { authorization: writer } }), {
      status: 400,
      errorCode: ['VALIDATION_FAILED', 'INVALID_JSON', 'BODY_NOT_OBJECT'],
      rule: /body/i,
    });
  });

  for (const [label, raw] of [
    ['a JSON array', JSON.stringify([leadBody()])],
    ['an empty JSON array', '[]'],
    ['a JSON string', JSON.stringify('{"customer":{"uuid":"c-1"}}')],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
  ] as const) {
    test(`a body that is ${label} → 400 "must be an object"`, async () => {
      assertClientError(await postRaw(raw, 'application/json'), {
        status: 400,
        errorCode: ['VALIDATION_FAILED', 'BODY_NOT_OBJECT'],
        field: 'body',
        rule: /object/,
      });
    });
  }

  for (const contentType of ['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    test(`Content-Type ${contentType} → 415 UNSUPPORTED_MEDIA_TYPE`, async () => {
      assertClientError(await postRaw('<lead/>', contentType), {
        status: 415,
        errorCode: 'UNSUPPORTED_MEDIA_TYPE',
        rule: /application\/json/,
      });
    });
  }

  test('Content-Type text/plain (even carrying valid JSON) → 415 UNSUPPORTED_MEDIA_TYPE', {}, async () => {
    assertClientError(await postRaw(JSON.stringify(leadBody()), 'text/plain'), {
      status: 415,
      errorCode: 'UNSUPPORTED_MEDIA_TYPE',
      rule: /application\/json/,
    });
  });

  test('Content-Type application/json with a charset parameter is accepted', async () => {
    const res = await postRaw(JSON.stringify(leadBody({ leadId: freshId('charset') })), 'application/json; charset=utf-8');
    assert.equal(res.statusCode, 200, res.body);
  });

  test('a __proto__ key in the body is refused as a client error, never a 5xx', async () => {
    const raw = JSON.stringify(leadBody({ leadId: freshId('proto') })).replace(/^\{/, '{"__proto__":{"polluted":true},');
    const res = await postRaw(raw, 'application/json');
    assertClientError(res, { status: 400, errorCode: 'INVALID_JSON' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('the error path leaves out the query string', async () => {
    const res = await ctx().app.inject({
      method: 'POST',
      url: `${SAVE_PATH}?trace=1`,
      headers: { authorization: writer },
      payload: leadBody({ status: 'OPEN' }),
    });
    assertClientError(res, { status: 400, errorCode: 'VALIDATION_FAILED', field: 'status', path: SAVE_PATH });
  });

  // --- references --------------------------------------------------------------------------------

  test('an unknown customer.uuid → 422 CUSTOMER_NOT_FOUND naming customer.uuid, nothing saved', async () => {
    const before = await leadCount();
    const err = assertClientError(await post(leadBody({ leadId: freshId('nocust'), customer: { uuid: 'c-404' } })), {
      status: 422,
      errorCode: 'CUSTOMER_NOT_FOUND',
      field: 'customer.uuid',
    });
    assert.match(String(err.message), /c-404/);
    assert.equal(await leadCount(), before);
  });

  test('an unknown vehicle.uuid → 422 VEHICLE_NOT_FOUND naming vehicle.uuid, nothing saved', async () => {
    const before = await leadCount();
    const err = assertClientError(
      await post(leadBody({ leadId: freshId('noveh'), vehicle: { uuid: 'v-404', trackingId: null, topic: null, description: null } })),
      { status: 422, errorCode: 'VEHICLE_NOT_FOUND', field: 'vehicle.uuid' },
    );
    assert.match(String(err.message), /v-404/);
    assert.equal(await leadCount(), before);
  });

  test("another dealer's customer (c-2 of d-2) is not found for d-1", async () => {
    const err = assertClientError(await post(leadBody({ customer: { uuid: 'c-2' }, vehicle: { uuid: 'v-1' } })), {
      status: 422,
      errorCode: 'CUSTOMER_NOT_FOUND',
      field: 'customer.uuid',
    });
    assert.match(String(err.message), /c-2/);
  });

  test("another dealer's vehicle (v-2 of d-2) is not found for d-1", async () => {
    const err = assertClientError(await post(leadBody({ vehicle: { uuid: 'v-2' } })), {
      status: 422,
      errorCode: 'VEHICLE_NOT_FOUND',
      field: 'vehicle.uuid',
    });
    assert.match(String(err.message), /v-2/);
  });

  test('an unknown dealer with a MultiDealer grant → 404 DEALER_NOT_FOUND naming the dealer', async () => {
    const err = assertClientError(await post(leadBody(), 'd-404', multi), {
      status: 404,
      errorCode: 'DEALER_NOT_FOUND',
      path: '/leads/v2/dealer/d-404',
    });
    assert.match(String(err.message), /d-404/);
  });

  test('the MultiDealer subscriber saves for d-2 with d-2’s customer and vehicle', async () => {
    const res = await post(leadBody({ leadId: freshId('multi'), customer: { uuid: 'c-2' }, vehicle: { uuid: 'v-2' } }), 'd-2', multi);
    assert.equal(res.statusCode, 200, res.body);
  });

  test('a Dealer-level subscriber saving for a dealer it has no grant for → 403', async () => {
    assertClientError(await post(leadBody(), 'd-2', writer), {
      status: 403,
      errorCode: 'INVALID_SCOPE_DEALER',
      path: '/leads/v2/dealer/d-2',
    });
    assertClientError(await post(leadBody(), 'd-1', reader), { status: 403, errorCode: 'INVALID_SCOPE_DEALER' });
  });

  // --- warnings ----------------------------------------------------------------------------------

  test('unknown fields are ignored with an UNKNOWN_FIELD warning naming the nested path; the lead is saved', async () => {
    const leadId = freshId('unknown');
    const body = leadBody({
      leadId,
      vehicle: { uuid: 'v-1', trackingId: 'T-1', color: 'red' },
      services: [{ code: 'MBVANS-A', price: 120 }, { code: 'MBVANS-B' }, { code: 'MBVANS-C', extra: { deep: 1 } }],
      campaign: { name: 'MBVANS', code: 'A', budget: 5 },
      priority: 'HIGH',
    });
    const res = await post(body);
    assert.equal(res.statusCode, 200, res.body);
    const saved = res.json();
    assert.equal(saved.isNewCreated, true);
    assert.equal(saved.error, null);
    const fields = saved.warnings.map((w: { warningCode: string; warningDescription: string }) => {
      assert.equal(w.warningCode, 'UNKNOWN_FIELD');
      assert.deepEqual(Object.keys(w).sort(), ['warningCode', 'warningDescription']);
      const m = /'([^']+)'/.exec(w.warningDescription);
      assert.ok(m, `warning names the field: ${w.warningDescription}`);
      return m[1];
    });
    assert.deepEqual(fields.sort(), ['campaign.budget', 'priority', 'services[0].price', 'services[2].extra', 'vehicle.color'].sort());

    const got = await read(saved.prospectUuid);
    assert.equal(got.statusCode, 200);
    const lead = got.json().lead;
    assert.equal(lead.leadId, leadId);
    assert.equal(lead.vehicle.trackingId, 'T-1');
    assert.deepEqual(
      lead.services.map((s: { code: string }) => s.code),
      ['MBVANS-A', 'MBVANS-B', 'MBVANS-C'],
    );
    const stored = JSON.stringify(lead);
    for (const ignored of ['color', 'price', 'extra', 'budget', 'priority']) assert.ok(!stored.includes(ignored), `${ignored} not stored`);
  });

  test('unknown fields named like Object.prototype members (toString, constructor, vehicle.hasOwnProperty) are warned about too', {}, async () => {
    const body = leadBody({
      leadId: freshId('proto-names'),
      toString: 'x',
      constructor: { a: 1 },
      vehicle: { uuid: 'v-1', hasOwnProperty: 1 },
    });
    const res = await post(body);
    assert.equal(res.statusCode, 200, res.body);
    const fields = res
      .json()
      .warnings.filter((w: { warningCode: string }) => w.warningCode === 'UNKNOWN_FIELD')
      .map((w: { warningDescription: string }) => /'([^']+)'/.exec(w.warningDescription)?.[1]);
    assert.deepEqual(fields.sort(), ['constructor', 'toString', 'vehicle.hasOwnProperty']);
  });

  test('a vehicle of another customer of the same dealer → saved with a VEHICLE_CUSTOMER_MISMATCH warning', async () => {
    const res = await post(leadBody({ leadId: freshId('mismatch'), customer: { uuid: 'c-1' }, vehicle: { uuid: 'v-3' } }));
    assert.equal(res.statusCode, 200, res.body);
    const saved = res.json();
    assert.equal(saved.isNewCreated, true);
    assert.equal(saved.warnings.length, 1);
    assert.equal(saved.warnings[0].warningCode, 'VEHICLE_CUSTOMER_MISMATCH');
    assert.match(saved.warnings[0].warningDescription, /v-3/);
    const lead = (await read(saved.prospectUuid)).json().lead;
    assert.equal(lead.customer.uuid, 'c-1');
    assert.equal(lead.vehicle.uuid, 'v-3');
  });

  test('a matching customer and vehicle give no warning', async () => {
    const res = await post(leadBody({ leadId: freshId('match'), customer: { uuid: 'c-3' }, vehicle: { uuid: 'v-3' } }));
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().warnings, []);
  });

  // --- reading -----------------------------------------------------------------------------------

  test('GET of an unknown prospectUuid → 404 LEAD_NOT_FOUND', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const err = assertClientError(await read(unknown), {
      status: 404,
      errorCode: 'LEAD_NOT_FOUND',
      path: `/leads/v2/dealer/d-1/lead/${unknown}`,
    });
    assert.match(String(err.message), new RegExp(unknown));
  });

  test("GET by another dealer's subscriber → 403; through its own dealer's path → 404 (no cross-dealer reads)", async () => {
    const { saved } = await saveAndRead(leadBody({ leadId: freshId('private') }));
    assertClientError(await read(saved.prospectUuid, 'd-1', other), {
      status: 403,
      errorCode: 'INVALID_SCOPE_DEALER',
      path: `/leads/v2/dealer/d-1/lead/${saved.prospectUuid}`,
    });
    assertClientError(await read(saved.prospectUuid, 'd-2', other), {
      status: 404,
      errorCode: 'LEAD_NOT_FOUND',
      path: `/leads/v2/dealer/d-2/lead/${saved.prospectUuid}`,
    });
    const byReader = await read(saved.prospectUuid, 'd-1', reader);
    assert.equal(byReader.statusCode, 200, 'lead.read is enough to read');
  });
});

/** The value at a simple path such as `services[0].code`, for test names. */
function fieldValue(body: Record<string, unknown>, path: string): unknown {
  return path
    .split(/\.|\[(\d+)\]/)
    .filter((p) => p !== undefined && p !== '')
    .reduce<unknown>((v, k) => (v === null || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[k]), body);
}
