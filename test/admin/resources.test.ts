// The admin API's provisioning resources: create, list (filters, cursor pages), change; every
// change goes through `apply` (same rules, audited as admin-api) and the partner API sees it at
// once. Plus the token boundary between the admin API and the partner API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { EVENTS_URL } from '../helpers/events.js';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic, describeEachDialect, type SuiteContext } from '../helpers/suite.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
const BEARER = `Bearer ${TOKEN}`;
const ADMIN = '/admin/v1';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT';
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any;

function client(ctx: () => SuiteContext) {
  const call = (method: Method, url: string, payload?: unknown): Promise<LightMyRequestResponse> =>
    ctx().app.inject({
      method,
      url: `${ADMIN}${url}`,
      headers: { authorization: BEARER },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  /** Every item of a list, page by page with `limit`; `between` runs after each page. */
  const all = async (url: string, limit: number, between?: (page: number) => Promise<void>): Promise<Json[]> => {
    const items: Json[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const sep = url.includes('?') ? '&' : '?';
      const res = await call('GET', `${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.ok(body.items.length <= limit);
      items.push(...body.items);
      cursor = body.nextCursor;
      if (cursor === null) return items;
      await between?.(page);
    }
    throw new Error('pagination did not end');
  };
  return { call, all };
}

/** Asserts a 4xx in the plain envelope with `code`; returns the message. */
function assertError(res: LightMyRequestResponse, status: number, code: string): string {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json();
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.requestId, 'string');
  return body.error.message;
}

const noDuplicates = (keys: string[]) => assert.equal(new Set(keys).size, keys.length, `duplicates in ${keys.join(',')}`);

describeEachDialect('admin API: resources', { fixture: baseFixture, env: { ADMIN_TOKEN: TOKEN } }, (ctx) => {
  const { call, all } = client(ctx);
  const partner = (method: 'GET' | 'POST', url: string, authorization: string, payload?: unknown) =>
    ctx().app.inject({ method, url, headers: { authorization }, ...(payload === undefined ? {} : { payload: payload as object }) });
  const readLead = (username: string, password: string, dealer = 'd-1') =>
    partner('GET', `/leads/v2/dealer/${dealer}/lead/00000000-0000-4000-8000-000000000000`, basic(username, password));

  // ---- the token boundary ----

  test('no token: 401 NULL_CREDENTIALS with WWW-Authenticate: Bearer', async () => {
    const res = await ctx().app.inject({ method: 'GET', url: `${ADMIN}/dealers` });
    assertError(res, 401, 'NULL_CREDENTIALS');
    assert.match(String(res.headers['www-authenticate']), /^Bearer /);
  });

  test("a partner's Basic credentials do not open admin routes", async () => {
    for (const url of ['/dealers', '/subscribers', '/audit']) {
      const res = await ctx().app.inject({ method: 'GET', url: `${ADMIN}${url}`, headers: { authorization: basic('multi', PASSWORD) } });
      assert.equal(res.statusCode, 401);
      assert.match(String(res.headers['www-authenticate']), /^Bearer /);
    }
    const wrong = await ctx().app.inject({ method: 'GET', url: `${ADMIN}/dealers`, headers: { authorization: 'Bearer not-the-token' } });
    assertError(wrong, 401, 'WRONG_CREDENTIAL');
  });

  test('the admin token does not open partner routes, as Bearer or as Basic', async () => {
    for (const authorization of [BEARER, basic('admin', TOKEN), `Basic ${Buffer.from(TOKEN).toString('base64')}`]) {
      const res = await partner('GET', '/leads/v2/dealer/d-1/lead/x', authorization);
      assert.equal(res.statusCode, 401, authorization);
      assert.match(String(res.headers['www-authenticate']), /^Basic /);
      const gate = await partner('POST', EVENTS_URL, authorization, { vin: 'x' });
      assert.equal(gate.statusCode, 401);
    }
  });

  // ---- dealers ----

  test('dealers: create (201), read, rename, 409 on a duplicate, 404 on an unknown one', async () => {
    const created = await call('POST', '/dealers', { uuid: 'd-new', name: 'New Motors' });
    assert.equal(created.statusCode, 201, created.body);
    const dealer = created.json();
    assert.equal(dealer.uuid, 'd-new');
    assert.equal(dealer.name, 'New Motors');
    assert.ok(!Number.isNaN(Date.parse(dealer.createdAt)));

    assertError(await call('POST', '/dealers', { uuid: 'd-new', name: 'Again' }), 409, 'CONFLICT');
    assert.equal((await call('GET', '/dealers/d-new')).json().name, 'New Motors');

    const renamed = await call('PATCH', '/dealers/d-new', { name: 'New Motors West' });
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.equal(renamed.json().name, 'New Motors West');
    assertError(await call('GET', '/dealers/d-nope'), 404, 'DEALER_NOT_FOUND');
    assertError(await call('PATCH', '/dealers/d-nope', { name: 'x' }), 404, 'DEALER_NOT_FOUND');
  });

  test('dealers: bad input is a 400', async () => {
    assertError(await call('POST', '/dealers', { uuid: 'd-x', name: 'X', city: 'Nowhere' }), 400, 'VALIDATION_FAILED');
    assert.match(assertError(await call('POST', '/dealers', { uuid: 'has space', name: 'X' }), 400, 'VALIDATION_FAILED'), /uuid/);
    assert.match(assertError(await call('POST', '/dealers', { uuid: 'd-x' }), 400, 'VALIDATION_FAILED'), /name/);
    assertError(await call('PATCH', '/dealers/d-1', {}), 400, 'VALIDATION_FAILED');
    assertError(await call('GET', '/dealers?limit=201'), 400, 'VALIDATION_FAILED');
    assertError(await call('GET', '/dealers?color=red'), 400, 'VALIDATION_FAILED');
  });

  test('dealers: q filters on a name or UUID prefix, case-insensitively', async () => {
    await call('POST', '/dealers', { uuid: 'zq-1', name: 'Quarry Cars' });
    await call('POST', '/dealers', { uuid: 'zq-2', name: 'quick_Motors 100%' });
    await call('POST', '/dealers', { uuid: 'zz-3', name: 'Big Quarry' });
    const uuids = async (q: string) => (await all(`/dealers?q=${encodeURIComponent(q)}`, 50)).map((d) => d.uuid);
    assert.deepEqual(await uuids('qu'), ['zq-1', 'zq-2']);
    assert.deepEqual(await uuids('QUARRY'), ['zq-1']);
    assert.deepEqual(await uuids('zq-'), ['zq-1', 'zq-2']);
    // LIKE wildcards are literal.
    assert.deepEqual(await uuids('quick_'), ['zq-2']);
    assert.deepEqual(await uuids('quick%'), []);
    assert.deepEqual(await uuids('q_'), []);
  });

  test('dealers: cursor pages never repeat or skip, even with dealers created between pages', async () => {
    const originals = Array.from({ length: 13 }, (_, i) => `pg-${String(i * 2).padStart(2, '0')}`);
    await ctx().provision({ dealers: originals.map((uuid) => ({ uuid, name: `Page ${uuid}` })) });
    let n = 0;
    const seen = await all('/dealers?q=pg-', 4, async () => {
      // One before the cursor (not shown in this pass), one after it (shown on a later page).
      await call('POST', '/dealers', { uuid: `pg-00${n}`, name: 'early' });
      await call('POST', '/dealers', { uuid: `pg-99${n++}`, name: 'late' });
    });
    const keys = seen.map((d) => d.uuid);
    noDuplicates(keys);
    for (const uuid of originals) assert.ok(keys.includes(uuid), `${uuid} was skipped`);
    assert.ok(keys.includes('pg-990'), 'a dealer created after the cursor shows on a later page');
  });

  test('a malformed cursor is a 400', async () => {
    for (const url of ['/dealers', '/subscribers', '/integrations', '/audit', '/dealers/d-1/customers', '/dealers/d-1/vehicles']) {
      for (const cursor of ['garbage!', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[1,2,3]').toString('base64url')]) {
        assertError(await call('GET', `${url}?cursor=${cursor}`), 400, 'VALIDATION_FAILED');
      }
    }
  });

  // ---- customers and vehicles ----

  test('customers: create, 409 on a duplicate (any dealer), partial change, null clears', async () => {
    const created = await call('POST', '/dealers/d-2/customers', {
      uuid: 'c-new',
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.com',
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(
      { ...(created.json() as Json), createdAt: undefined, updatedAt: undefined },
      {
        uuid: 'c-new',
        dealerUuid: 'd-2',
        firstName: 'Ada',
        lastName: 'Lovelace',
        email: 'ada@example.com',
        phone: null,
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    assertError(await call('POST', '/dealers/d-2/customers', { uuid: 'c-new' }), 409, 'CONFLICT');
    assertError(await call('POST', '/dealers/d-2/customers', { uuid: 'c-1' }), 409, 'CONFLICT');
    assertError(await call('POST', '/dealers/d-9/customers', { uuid: 'c-x' }), 404, 'DEALER_NOT_FOUND');
    assertError(await call('POST', '/dealers/d-2/customers', { uuid: 'c-x', nickname: 'x' }), 400, 'VALIDATION_FAILED');

    const changed = await call('PATCH', '/customers/c-new', { phone: '+1 555 0100', email: null });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(changed.json().phone, '+1 555 0100');
    assert.equal(changed.json().email, null);
    assert.equal(changed.json().firstName, 'Ada', 'fields not given are kept');
    assertError(await call('PATCH', '/customers/c-nope', { phone: 'x' }), 404, 'NOT_FOUND');
    assertError(await call('PATCH', '/customers/c-new', { dealerUuid: 'd-1' }), 400, 'VALIDATION_FAILED');
    // Vehicles of a changed customer are left alone.
    const vehicles = await all('/dealers/d-1/vehicles', 50);
    await call('PATCH', '/customers/c-1', { lastName: 'Doe-Smith' });
    assert.deepEqual(await all('/dealers/d-1/vehicles', 50), vehicles);
  });

  test('customers: q matches part of the name or the email; pages are stable under inserts', async () => {
    await call('POST', '/dealers', { uuid: 'd-cust', name: 'Customer Pages' });
    const originals: string[] = [];
    for (let i = 0; i < 9; i++) {
      const uuid = `cp-${i * 2}`;
      originals.push(uuid);
      await call('POST', '/dealers/d-cust/customers', {
        uuid,
        firstName: i % 2 === 0 ? 'Maria' : 'John',
        lastName: `Garcia${i}`,
        email: `person${i}@fleet.example`,
      });
    }
    const uuids = async (q: string) => (await all(`/dealers/d-cust/customers?q=${encodeURIComponent(q)}`, 50)).map((c) => c.uuid);
    assert.equal((await uuids('maria')).length, 5);
    assert.deepEqual(await uuids('john garcia3'), ['cp-6']);
    assert.deepEqual(await uuids('PERSON4@'), ['cp-8']);
    assert.equal((await uuids('fleet.example')).length, 9);
    assert.deepEqual(await uuids('nobody'), []);
    // Another dealer's customers never appear.
    assert.ok(!(await all('/dealers/d-1/customers', 50)).some((c) => c.uuid.startsWith('cp-')));

    let n = 0;
    const seen = await all('/dealers/d-cust/customers', 2, async () => {
      await call('POST', '/dealers/d-cust/customers', { uuid: `cp-${n++}x` });
    });
    const keys = seen.map((c) => c.uuid);
    noDuplicates(keys);
    for (const uuid of originals) assert.ok(keys.includes(uuid), `${uuid} was skipped`);
    assertError(await call('GET', '/dealers/d-9/customers'), 404, 'DEALER_NOT_FOUND');
  });

  test("vehicles: registered to a customer at the customer's dealer; 409, 400, partial change", async () => {
    const created = await call('POST', '/customers/c-2/vehicles', { uuid: 'v-new', vin: '2T1BURHE0JC043821', year: 2018, make: 'Toyota' });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().dealerUuid, 'd-2');
    assert.equal(created.json().customerUuid, 'c-2');
    assertError(await call('POST', '/customers/c-2/vehicles', { uuid: 'v-new' }), 409, 'CONFLICT');
    assertError(await call('POST', '/customers/c-1/vehicles', { uuid: 'v-1' }), 409, 'CONFLICT');
    assertError(await call('POST', '/customers/c-nope/vehicles', { uuid: 'v-x' }), 404, 'NOT_FOUND');
    const vin = assertError(await call('POST', '/customers/c-2/vehicles', { uuid: 'v-x', vin: 'not-a-vin' }), 400, 'VALIDATION_FAILED');
    assert.match(vin, /vin/);
    assertError(await call('POST', '/customers/c-2/vehicles', { uuid: 'v-x', year: '2019' }), 400, 'VALIDATION_FAILED');

    const changed = await call('PATCH', '/vehicles/v-new', { model: 'Corolla', year: null });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual([changed.json().make, changed.json().model, changed.json().year], ['Toyota', 'Corolla', null]);
    assertError(await call('PATCH', '/vehicles/v-nope', { model: 'x' }), 404, 'NOT_FOUND');
    // The customer it belongs to is unchanged by a vehicle change.
    assert.equal((await all('/dealers/d-2/customers', 50)).find((c) => c.uuid === 'c-2')?.firstName, 'Sam');
  });

  test('vehicles: the vin filter and stable pages', async () => {
    await call('POST', '/dealers', { uuid: 'd-veh', name: 'Vehicle Pages' });
    await call('POST', '/dealers/d-veh/customers', { uuid: 'c-veh' });
    const vin = '1FTFW1ET5DFC10312';
    const originals: string[] = [];
    for (let i = 0; i < 7; i++) {
      originals.push(`vp-${i * 2}`);
      await call('POST', '/customers/c-veh/vehicles', { uuid: `vp-${i * 2}`, vin: i < 2 ? vin : null });
    }
    assert.deepEqual(
      (await all(`/dealers/d-veh/vehicles?vin=${vin}`, 50)).map((v) => v.uuid),
      ['vp-0', 'vp-2'],
    );
    let n = 0;
    const keys = (
      await all('/dealers/d-veh/vehicles', 3, async () => {
        await call('POST', '/customers/c-veh/vehicles', { uuid: `vp-${n++}z` });
      })
    ).map((v) => v.uuid);
    noDuplicates(keys);
    for (const uuid of originals) assert.ok(keys.includes(uuid), `${uuid} was skipped`);
  });

  test('a dealer, customer and vehicle created through the API take a lead at once', async () => {
    await call('POST', '/dealers', { uuid: 'd-live', name: 'Live Motors' });
    await call('POST', '/dealers/d-live/customers', { uuid: 'c-live', firstName: 'Lee' });
    await call('POST', '/customers/c-live/vehicles', { uuid: 'v-live' });
    const res = await partner(
      'POST',
      '/leads/v2/dealer/d-live',
      basic('multi', PASSWORD),
      leadBody({ customer: { uuid: 'c-live' }, vehicle: { uuid: 'v-live' } }),
    );
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().isNewCreated, true);
  });

  // ---- subscribers ----

  test('subscribers: created through the API, they authenticate at once; never a hash in any answer', async () => {
    const created = await call('POST', '/subscribers', {
      username: 'newbie',
      password: 'newbie-password-1',
      grants: [{ scope: 'lead.read', dealers: ['d-1'] }],
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(created.json().grants, [{ scope: 'lead.read', dealers: ['d-1'] }]);
    assert.equal(created.json().disabled, false);
    // Authenticated and in scope: the lead is simply not there.
    assert.equal((await readLead('newbie', 'newbie-password-1')).json().errorCode, 'LEAD_NOT_FOUND');
    assert.equal((await readLead('newbie', 'newbie-password-1', 'd-2')).statusCode, 403);

    assertError(await call('POST', '/subscribers', { username: 'newbie', password: 'whatever-pass', grants: [] }), 409, 'CONFLICT');
    for (const res of [await call('GET', '/subscribers/newbie'), await call('GET', '/subscribers?limit=200'), created]) {
      assert.doesNotMatch(res.body, /scrypt|password/i);
    }
    assertError(await call('GET', '/subscribers/nobody'), 404, 'NOT_FOUND');
  });

  test('subscribers: bad input is a 400 (short password, unknown scope, unknown dealer, passwordHash)', async () => {
    const body = (extra: object) => ({ username: 'bad', password: 'long-enough-1', grants: [], ...extra });
    assertError(await call('POST', '/subscribers', body({ password: 'short' })), 400, 'VALIDATION_FAILED');
    assertError(await call('POST', '/subscribers', body({ grants: [{ scope: 'lead.delete', dealers: '*' }] })), 400, 'VALIDATION_FAILED');
    const unknown = assertError(
      await call('POST', '/subscribers', body({ grants: [{ scope: 'lead.write', dealers: ['d-9'] }] })),
      400,
      'VALIDATION_FAILED',
    );
    assert.match(unknown, /grants\[0\]\.dealers\[0\]: unknown dealer "d-9"/);
    assertError(await call('POST', '/subscribers', body({ passwordHash: 'scrypt$1' })), 400, 'VALIDATION_FAILED');
    assertError(await call('GET', '/subscribers/bad'), 404, 'NOT_FOUND');
  });

  test('subscribers: a password rotated with passwordOverlapHours 0 works at once and the old one no longer does', async () => {
    await call('POST', '/subscribers', { username: 'rotor', password: 'old-password-1', grants: [{ scope: 'lead.read', dealers: '*' }] });
    assert.equal((await readLead('rotor', 'old-password-1')).statusCode, 404);
    // Without passwordOverlapHours the old one would keep working for 24 h (test/auth/password-rotation.test.ts).
    const rotated = await call('POST', '/subscribers/rotor/password', { password: 'new-password-2', passwordOverlapHours: 0 });
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.equal((await readLead('rotor', 'old-password-1')).statusCode, 401);
    assert.equal((await readLead('rotor', 'new-password-2')).statusCode, 404);
    assertError(await call('POST', '/subscribers/rotor/password', { password: 'x' }), 400, 'VALIDATION_FAILED');
    assertError(await call('POST', '/subscribers/nobody/password', { password: 'new-password-2' }), 404, 'NOT_FOUND');
  });

  test('subscribers: disable answers 401 at once, enable restores it; grants and password survive both', async () => {
    await call('POST', '/subscribers', {
      username: 'toggle',
      password: 'toggle-pass-1',
      grants: [{ scope: 'lead.write', dealers: ['d-1', 'd-2'] }],
    });
    assert.equal((await readLead('toggle', 'toggle-pass-1')).statusCode, 404);
    const disabled = await call('POST', '/subscribers/toggle/disable');
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal(disabled.json().disabled, true);
    assert.equal((await readLead('toggle', 'toggle-pass-1')).statusCode, 401);
    const enabled = await call('POST', '/subscribers/toggle/enable');
    assert.equal(enabled.json().disabled, false);
    assert.deepEqual(enabled.json().grants, [{ scope: 'lead.write', dealers: ['d-1', 'd-2'] }]);
    assert.equal((await readLead('toggle', 'toggle-pass-1')).statusCode, 404);
    assertError(await call('POST', '/subscribers/nobody/disable'), 404, 'NOT_FOUND');
  });

  test('subscribers: PUT grants replaces them, and scope checks follow at once', async () => {
    await call('POST', '/subscribers', {
      username: 'granted',
      password: 'granted-pass-1',
      grants: [{ scope: 'lead.read', dealers: ['d-1'] }],
    });
    assert.equal((await readLead('granted', 'granted-pass-1', 'd-2')).statusCode, 403);
    const res = await call('PUT', '/subscribers/granted/grants', {
      grants: [
        { scope: 'lead.read', dealers: ['d-2'] },
        { scope: 'lead.write', dealers: '*' },
      ],
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().grants, [
      { scope: 'lead.read', dealers: ['d-2'] },
      { scope: 'lead.write', dealers: '*' },
    ]);
    assert.equal((await readLead('granted', 'granted-pass-1', 'd-2')).statusCode, 404);
    // The password was kept (sent back to apply as its stored hash).
    assert.equal((await readLead('granted', 'granted-pass-1', 'd-1')).statusCode, 404);
    const revoke = await call('PUT', '/subscribers/granted/grants', { grants: [] });
    assert.deepEqual(revoke.json().grants, []);
    assert.equal((await readLead('granted', 'granted-pass-1', 'd-1')).statusCode, 403);
    assertError(await call('PUT', '/subscribers/granted/grants', { grants: [], extra: 1 }), 400, 'VALIDATION_FAILED');
  });

  test('subscribers: q filters on a username prefix; pages are stable under inserts', async () => {
    const originals: string[] = [];
    for (let i = 0; i < 6; i++) {
      originals.push(`sp-${i * 2}`);
      await ctx().provision({ subscribers: [{ username: `sp-${i * 2}`, password: PASSWORD, grants: [] }] });
    }
    assert.deepEqual(
      (await all('/subscribers?q=SP-1', 50)).map((s) => s.username),
      ['sp-10'],
    );
    let n = 0;
    const keys = (
      await all('/subscribers?q=sp-', 2, async () => {
        await call('POST', '/subscribers', { username: `sp-${n++}y`, password: PASSWORD, grants: [] });
      })
    ).map((s) => s.username);
    noDuplicates(keys);
    for (const username of originals) assert.ok(keys.includes(username), `${username} was skipped`);
  });

  // ---- integrations ----

  test('integrations: create, read, change; the gate follows at once', async () => {
    // events-only holds the scope but no integration: not a partner for the event type yet.
    const event = () => partner('POST', EVENTS_URL, basic('events-only', PASSWORD), { dealer_uuid: 'EO-1', vin: '1HGCM82633A004352' });
    assert.equal((await event()).statusCode, 403);

    const created = await call('POST', '/integrations', {
      subscriber: 'events-only',
      eventType: 'vehicle-service-chat',
      dealerMap: { 'EO-1': 'd-1' },
      schema: { type: 'object', required: ['vin'] },
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(
      { ...(created.json() as Json), createdAt: undefined, updatedAt: undefined },
      {
        subscriber: 'events-only',
        eventType: 'vehicle-service-chat',
        active: true,
        dealerIdField: 'dealer_uuid',
        dealerMap: { 'EO-1': 'd-1' },
        schema: { type: 'object', required: ['vin'] },
        transform: null,
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    assert.equal((await event()).statusCode, 200);
    assertError(await call('POST', '/integrations', { subscriber: 'events-only', eventType: 'vehicle-service-chat' }), 409, 'CONFLICT');

    const off = await call('PATCH', '/integrations/events-only/vehicle-service-chat', { active: false, transform: '{ "vin": vin }' });
    assert.equal(off.statusCode, 200, off.body);
    assert.equal(off.json().active, false);
    assert.equal(off.json().transform, '{ "vin": vin }');
    assert.deepEqual(off.json().dealerMap, { 'EO-1': 'd-1' }, 'fields not given are kept');
    assert.equal((await event()).statusCode, 403);

    const cleared = await call('PATCH', '/integrations/events-only/vehicle-service-chat', { active: true, transform: null, schema: null });
    assert.deepEqual([cleared.json().transform, cleared.json().schema], [null, null]);
    assert.equal((await call('GET', '/integrations/events-only/vehicle-service-chat')).json().active, true);
    assertError(await call('GET', '/integrations/writer/vehicle-service-chat'), 404, 'NOT_FOUND');
    assertError(await call('PATCH', '/integrations/writer/vehicle-service-chat', { active: false }), 404, 'NOT_FOUND');
    assertError(await call('GET', '/integrations/writer/other-event'), 400, 'VALIDATION_FAILED');
  });

  test('integrations: a bad JSONata transform, a bad schema or an unknown field is a 400, and nothing changes', async () => {
    await call('POST', '/integrations', { subscriber: 'reader', eventType: 'vehicle-service-chat', transform: '$' });
    const url = '/integrations/reader/vehicle-service-chat';
    const before = (await call('GET', url)).json();
    const jsonata = assertError(await call('PATCH', url, { transform: '{ "a": ' }), 400, 'VALIDATION_FAILED');
    assert.match(jsonata, /^transform: is not a valid JSONata expression/);
    const schema = assertError(await call('PATCH', url, { schema: { type: 'no-such-type' } }), 400, 'VALIDATION_FAILED');
    assert.match(schema, /^schema: is not a valid JSON Schema/);
    assertError(await call('PATCH', url, { colour: 'red' }), 400, 'VALIDATION_FAILED');
    assertError(await call('PATCH', url, { dealerMap: { X: 'd-9' } }), 400, 'VALIDATION_FAILED');
    assertError(await call('POST', '/integrations', { subscriber: 'nobody', eventType: 'vehicle-service-chat' }), 400, 'VALIDATION_FAILED');
    assert.deepEqual((await call('GET', url)).json(), before);
  });

  test('integrations: the subscriber filter and stable pages', async () => {
    const names = ['ip-0', 'ip-2', 'ip-4', 'ip-6', 'ip-8'];
    await ctx().provision({
      subscribers: names.map((username) => ({ username, password: PASSWORD, grants: [] })),
      integrations: names.map((subscriber) => ({ subscriber, eventType: 'vehicle-service-chat' })),
    });
    assert.deepEqual(
      (await all('/integrations?subscriber=ip-4', 50)).map((x) => x.subscriber),
      ['ip-4'],
    );
    let n = 0;
    const keys = (
      await all('/integrations', 2, async () => {
        const username = `ip-${n++}w`;
        await call('POST', '/subscribers', { username, password: PASSWORD, grants: [] });
        await call('POST', '/integrations', { subscriber: username, eventType: 'vehicle-service-chat' });
      })
    ).map((x) => `${x.subscriber}/${x.eventType}`);
    noDuplicates(keys);
    for (const name of names) assert.ok(keys.includes(`${name}/vehicle-service-chat`), `${name} was skipped`);
  });

  // ---- audit ----

  test('audit: every API change is recorded as admin-api; the fixture as apply; filters and pages', async () => {
    await call('POST', '/dealers', { uuid: 'd-audit', name: 'Audited' });
    await call('PATCH', '/dealers/d-audit', { name: 'Audited Again' });
    await call('PATCH', '/dealers/d-audit', { name: 'Audited Again' }); // no change: no entry

    const entries = (await call('GET', '/audit?entity=dealer&key=d-audit')).json().items;
    assert.deepEqual(
      entries.map((e: Json) => [e.actor, e.action, e.before?.name ?? null, e.after.name]),
      [
        ['admin-api', 'update', 'Audited', 'Audited Again'],
        ['admin-api', 'create', null, 'Audited'],
      ],
    );
    assert.ok(!Number.isNaN(Date.parse(entries[0].at)));
    const fromApply = (await call('GET', '/audit?actor=apply&entity=subscriber&key=writer')).json().items;
    assert.equal(fromApply.length, 1);
    assert.equal(fromApply[0].action, 'create');
    assert.deepEqual((await call('GET', '/audit?actor=nobody')).json(), { items: [], nextCursor: null });

    // Newest first, pages stable while new entries arrive.
    const total = (await all('/audit', 200)).length;
    let n = 0;
    const seen = await all('/audit', 7, async () => {
      await call('POST', '/dealers', { uuid: `d-audit-${n++}`, name: 'More' });
    });
    const ids = seen.map((e) => e.id);
    noDuplicates(ids);
    assert.equal(ids.length, total);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
    );
  });

  test('audit: subscriber changes made through the API never show a password or hash', async () => {
    await call('POST', '/subscribers', { username: 'audited', password: 'audited-pass-1', grants: [] });
    await call('POST', '/subscribers/audited/password', { password: 'audited-pass-2' });
    await call('POST', '/subscribers/audited/disable');
    await call('PUT', '/subscribers/audited/grants', { grants: [{ scope: 'lead.read', dealers: '*' }] });
    const entries = (await call('GET', '/audit?entity=subscriber&key=audited')).json().items;
    assert.deepEqual(
      entries.map((e: Json) => [e.actor, e.action, e.after.passwordChanged, e.after.disabled]),
      [
        ['admin-api', 'update', false, true],
        ['admin-api', 'update', false, true],
        ['admin-api', 'update', true, false],
        ['admin-api', 'create', true, false],
      ],
    );
    assert.deepEqual(entries[0].after.grants, { 'lead.read': ['*'] });
    const everything = JSON.stringify(await all('/audit', 200));
    assert.doesNotMatch(everything, /scrypt|password_hash|passwordHash|audited-pass|correct-horse/);
  });

  // ---- OpenAPI ----

  test('the admin routes are in the OpenAPI document with the adminToken scheme', async () => {
    const doc = (await ctx().app.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.deepEqual(doc.components.securitySchemes.adminToken, { type: 'http', scheme: 'bearer' });
    for (const [path, method] of [
      ['/admin/v1/dealers', 'post'],
      ['/admin/v1/dealers/{dealerUuid}/customers', 'get'],
      ['/admin/v1/subscribers/{username}/grants', 'put'],
      ['/admin/v1/integrations/{subscriber}/{eventType}', 'patch'],
      ['/admin/v1/audit', 'get'],
    ] as const) {
      const op = doc.paths[path]?.[method];
      assert.ok(op, `${method} ${path}`);
      assert.deepEqual(op.security, [{ adminToken: [] }]);
      assert.deepEqual(op.tags, ['admin']);
    }
  });
});
