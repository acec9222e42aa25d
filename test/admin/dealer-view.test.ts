// The dealer views of the admin API: a dealer's chat summaries and leads, newest first, with
// their filters, in cursor pages that neither repeat nor skip a row when rows arrive meanwhile.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic, describeEachDialect, type SuiteContext } from '../helpers/suite.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
const ADMIN = '/admin/v1';
const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any;

function client(ctx: () => SuiteContext) {
  const get = (url: string): Promise<LightMyRequestResponse> =>
    ctx().app.inject({ method: 'GET', url: `${ADMIN}${url}`, headers: { authorization: `Bearer ${TOKEN}` } });
  /** Every item, page by page; `between` runs after each page but the last. */
  const all = async (url: string, limit: number, between?: () => Promise<void>): Promise<Json[]> => {
    const items: Json[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const sep = url.includes('?') ? '&' : '?';
      const res = await get(`${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.statusCode, 200, res.body);
      items.push(...res.json().items);
      cursor = res.json().nextCursor;
      if (cursor === null) return items;
      await between?.();
    }
    throw new Error('pagination did not end');
  };
  return { get, all };
}

function assertError(res: LightMyRequestResponse, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.json().error.code, code);
}

const noDuplicates = (keys: string[]) => assert.equal(new Set(keys).size, keys.length, `duplicates in ${keys.join(',')}`);

describeEachDialect('admin API: dealer views', { fixture: baseFixture, env: { ADMIN_TOKEN: TOKEN } }, (ctx) => {
  const { get, all } = client(ctx);
  let sequence = 0;

  /** A processed event and its chat summary, as the pipeline stores them. */
  async function summary(dealer: string, at: number, fields: { escalated?: boolean | null; vin?: string | null } = {}): Promise<string> {
    const db = ctx().tdb.db.kysely;
    const requestId = `${String(at).padStart(15, '0')}-${String(sequence++).padStart(4, '0')}`;
    await db
      .insertInto('events')
      .values({
        request_id: requestId,
        username: 'events-only',
        event_type: 'vehicle-service-chat',
        body_sha256: 'x',
        idempotency_key: null,
        received_at: at,
        status: 'PROCESSED',
        attempts: 1,
        run_after: at,
        locked_by: null,
        locked_until: null,
        dealer_uuid: dealer,
        errors: '[]',
        warnings: '[]',
        last_error: null,
        processed_at: at,
        updated_at: at,
      })
      .execute();
    await db.insertInto('event_bodies').values({ request_id: requestId, raw_body: '{}' }).execute();
    const escalated = fields.escalated ?? null;
    const record = {
      dealer_uuid: dealer,
      event_timestamp: at,
      summary: `chat ${requestId}`,
      ...(escalated === null ? {} : { escalation_flag: escalated }),
      ...(fields.vin ? { vin: fields.vin } : {}),
    };
    await db
      .insertInto('chat_summaries')
      .values({
        request_id: requestId,
        dealer_uuid: dealer,
        vehicle_uuid: null,
        customer_uuid: null,
        vin: fields.vin ?? null,
        chat_code: `CH-${sequence}`,
        event_timestamp: at,
        escalation_flag: escalated === null ? null : escalated ? 1 : 0,
        record: JSON.stringify(record),
        created_at: at,
        updated_at: at,
      })
      .execute();
    return requestId;
  }

  /** A lead row created at `at`, as a save stores it. */
  async function lead(dealer: string, at: number, fields: { leadType?: string; status?: string } = {}): Promise<string> {
    const prospectUuid = randomUUID();
    await ctx()
      .tdb.db.kysely.insertInto('leads')
      .values({
        prospect_uuid: prospectUuid,
        dealer_uuid: dealer,
        lead_key: `key-${prospectUuid}`,
        lead_id: `L-${prospectUuid}`,
        web_id: null,
        customer_uuid: dealer === 'd-1' ? 'c-1' : 'c-2',
        vehicle_uuid: dealer === 'd-1' ? 'v-1' : 'v-2',
        source: 'MMC',
        status: fields.status ?? 'NEW',
        lead_type: fields.leadType ?? 'RECALL',
        last_contact_at: at,
        body: '{}',
        save_count: 1,
        created_at: at,
        updated_at: at,
      })
      .execute();
    return prospectUuid;
  }

  // ---- chat summaries ----

  test('chat summaries: newest first, the record parsed, times as ISO strings', async () => {
    const older = await summary('d-2', T0, { escalated: true, vin: '2T1BURHE0JC043821' });
    const newer = await summary('d-2', T0 + MINUTE);
    await summary('d-1', T0 + 2 * MINUTE);
    const items = (await get('/dealers/d-2/chat-summaries')).json().items;
    assert.deepEqual(
      items.map((s: Json) => s.requestId),
      [newer, older],
    );
    assert.deepEqual(items[1], {
      requestId: older,
      dealerUuid: 'd-2',
      vehicleUuid: null,
      customerUuid: null,
      vin: '2T1BURHE0JC043821',
      chatCode: items[1].chatCode,
      eventTimestamp: new Date(T0).toISOString(),
      escalated: true,
      record: { dealer_uuid: 'd-2', event_timestamp: T0, summary: `chat ${older}`, escalation_flag: true, vin: '2T1BURHE0JC043821' },
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0).toISOString(),
    });
    assert.equal(items[0].escalated, null);
    assertError(await get('/dealers/d-9/chat-summaries'), 404, 'DEALER_NOT_FOUND');
  });

  test('chat summaries: escalated, vin and since/until filters (event_timestamp, until exclusive)', async () => {
    await ctx().provision({ dealers: [{ uuid: 'd-chat', name: 'Chat Filters' }] });
    const vin = '1FTFW1ET5DFC10312';
    const a = await summary('d-chat', T0, { escalated: true, vin });
    const b = await summary('d-chat', T0 + MINUTE, { escalated: false });
    const c = await summary('d-chat', T0 + 2 * MINUTE, { escalated: true });
    const d = await summary('d-chat', T0 + 3 * MINUTE);
    const ids = async (query: string) => (await all(`/dealers/d-chat/chat-summaries?${query}`, 50)).map((s) => s.requestId);
    assert.deepEqual(await ids('escalated=true'), [c, a]);
    assert.deepEqual(await ids('escalated=false'), [b]);
    assert.deepEqual(await ids(`vin=${vin}`), [a]);
    const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
    assert.deepEqual(await ids(`since=${iso(T0 + MINUTE)}`), [d, c, b]);
    assert.deepEqual(await ids(`until=${iso(T0 + 2 * MINUTE)}`), [b, a]);
    assert.deepEqual(await ids(`since=${iso(T0 + MINUTE)}&until=${iso(T0 + 3 * MINUTE)}&escalated=true`), [c]);
    assertError(await get('/dealers/d-chat/chat-summaries?escalated=maybe'), 400, 'VALIDATION_FAILED');
    assertError(await get('/dealers/d-chat/chat-summaries?since=yesterday'), 400, 'VALIDATION_FAILED');
    assertError(await get('/dealers/d-chat/chat-summaries?mood=happy'), 400, 'VALIDATION_FAILED');
  });

  test('chat summaries: pages never repeat or skip, with ties and with summaries arriving between pages', async () => {
    await ctx().provision({ dealers: [{ uuid: 'd-chat-pages', name: 'Chat Pages' }] });
    const originals: string[] = [];
    // Three summaries per timestamp: the request id breaks the ties.
    for (let i = 0; i < 12; i++) originals.push(await summary('d-chat-pages', T0 + Math.floor(i / 3) * MINUTE));
    let n = 0;
    const seen = await all('/dealers/d-chat-pages/chat-summaries', 5, async () => {
      // Newer than everything (before the cursor), and in the middle of what is left.
      await summary('d-chat-pages', T0 + 100 * MINUTE + n++);
      await summary('d-chat-pages', T0 + MINUTE);
    });
    const keys = seen.map((s) => s.requestId);
    noDuplicates(keys);
    for (const id of originals) assert.ok(keys.includes(id), `${id} was skipped`);
    const order = seen.map((s) => [Date.parse(s.eventTimestamp), s.requestId]);
    const sorted = [...order].sort((x, y) => y[0] - x[0] || (y[1] < x[1] ? -1 : y[1] > x[1] ? 1 : 0));
    assert.deepEqual(order, sorted, 'newest first, request id descending within a timestamp');
    assertError(await get('/dealers/d-chat-pages/chat-summaries?cursor=bm9wZQ'), 400, 'VALIDATION_FAILED');
  });

  // ---- leads ----

  test('leads: a saved lead is listed and its detail carries the saved body', async () => {
    const saved = await ctx().app.inject({
      method: 'POST',
      url: '/leads/v2/dealer/d-1',
      headers: { authorization: basic('writer', PASSWORD) },
      payload: leadBody({ leadId: 'VIEW-1' }),
    });
    assert.equal(saved.statusCode, 200, saved.body);
    const prospectUuid = saved.json().prospectUuid;
    const listed = (await all('/dealers/d-1/leads', 50)).find((l) => l.prospectUuid === prospectUuid);
    assert.equal(listed.leadId, 'VIEW-1');
    assert.equal(listed.leadType, 'RECALL');
    assert.equal(listed.lastContactAt, '2023-06-08T11:00:00.000Z');
    assert.equal(listed.saveCount, 1);

    const detail = await get(`/dealers/d-1/leads/${prospectUuid}`);
    assert.equal(detail.statusCode, 200, detail.body);
    assert.equal(detail.json().prospectUuid, prospectUuid);
    assert.equal(detail.json().dealerUuid, 'd-1');
    assert.deepEqual(detail.json().services, [
      { name: 'Maintenance - Service A', code: 'MBVANS-A', type: 'business', dueDate: '2023-06-01' },
    ]);
    assert.equal(detail.json().campaign.code, 'A');
    assert.ok(!Number.isNaN(Date.parse(detail.json().createdAt)));

    assertError(await get(`/dealers/d-2/leads/${prospectUuid}`), 404, 'LEAD_NOT_FOUND');
    assertError(await get(`/dealers/d-1/leads/${randomUUID()}`), 404, 'LEAD_NOT_FOUND');
    assertError(await get(`/dealers/d-9/leads/${prospectUuid}`), 404, 'DEALER_NOT_FOUND');
    assertError(await get('/dealers/d-9/leads'), 404, 'DEALER_NOT_FOUND');
  });

  test("leads: the list names each lead's customer and its vehicle's VIN, where they are known", async () => {
    await ctx().provision({
      dealers: [{ uuid: 'd-named', name: 'Named Leads' }],
      customers: [
        {
          dealer: 'd-named',
          uuid: 'c-named',
          firstName: 'Dana',
          lastName: 'Reyes',
          vehicles: [{ uuid: 'v-named', vin: '1HGCM82633A004352' }],
        },
        { dealer: 'd-named', uuid: 'c-first', firstName: 'Ann', vehicles: [{ uuid: 'v-novin' }] },
        { dealer: 'd-named', uuid: 'c-anon', vehicles: [{ uuid: 'v-anon', vin: 'JH4KA7650MC002131' }] },
      ],
    });
    const insert = (at: number, customerUuid: string, vehicleUuid: string) =>
      ctx()
        .tdb.db.kysely.insertInto('leads')
        .values({
          prospect_uuid: randomUUID(),
          dealer_uuid: 'd-named',
          lead_key: `key-${customerUuid}-${at}`,
          lead_id: null,
          web_id: null,
          customer_uuid: customerUuid,
          vehicle_uuid: vehicleUuid,
          source: 'MMC',
          status: 'NEW',
          lead_type: 'RECALL',
          last_contact_at: at,
          body: '{}',
          save_count: 1,
          created_at: at,
          updated_at: at,
        })
        .execute();
    await insert(T0 + 2 * MINUTE, 'c-named', 'v-named');
    await insert(T0 + MINUTE, 'c-first', 'v-novin');
    await insert(T0, 'c-anon', 'v-anon');
    const listed = (await all('/dealers/d-named/leads', 50)).map((l) => [l.customerUuid, l.customerName, l.vehicleUuid, l.vin]);
    assert.deepEqual(listed, [
      ['c-named', 'Dana Reyes', 'v-named', '1HGCM82633A004352'],
      ['c-first', 'Ann', 'v-novin', null],
      ['c-anon', null, 'v-anon', 'JH4KA7650MC002131'],
    ]);
  });

  test('leads: status, leadType and since/until filters (created_at, until exclusive)', async () => {
    await ctx().provision({
      dealers: [{ uuid: 'd-leads', name: 'Lead Filters' }],
    });
    const a = await lead('d-leads', T0, { leadType: 'RECALL' });
    const b = await lead('d-leads', T0 + MINUTE, { leadType: 'SERVICE_DEMAND' });
    const c = await lead('d-leads', T0 + 2 * MINUTE, { leadType: 'RECALL', status: 'CLOSED' });
    const ids = async (query: string) => (await all(`/dealers/d-leads/leads?${query}`, 50)).map((l) => l.prospectUuid);
    assert.deepEqual(await ids(''), [c, b, a]);
    assert.deepEqual(await ids('leadType=RECALL'), [c, a]);
    assert.deepEqual(await ids('leadType=SERVICE_DEMAND'), [b]);
    assert.deepEqual(await ids('status=NEW'), [b, a]);
    assert.deepEqual(await ids('status=CLOSED&leadType=RECALL'), [c]);
    const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
    assert.deepEqual(await ids(`since=${iso(T0 + MINUTE)}`), [c, b]);
    assert.deepEqual(await ids(`until=${iso(T0 + MINUTE)}`), [a]);
    assertError(await get('/dealers/d-leads/leads?until=not-a-date'), 400, 'VALIDATION_FAILED');
    assertError(await get('/dealers/d-leads/leads?limit=0'), 400, 'VALIDATION_FAILED');
  });

  test('leads: pages never repeat or skip, with ties, re-saves and leads arriving between pages', async () => {
    await ctx().provision({ dealers: [{ uuid: 'd-lead-pages', name: 'Lead Pages' }] });
    const originals: string[] = [];
    for (let i = 0; i < 11; i++) originals.push(await lead('d-lead-pages', T0 + Math.floor(i / 2) * MINUTE));
    let n = 0;
    const seen = await all('/dealers/d-lead-pages/leads', 4, async () => {
      await lead('d-lead-pages', T0 + 100 * MINUTE + n);
      await lead('d-lead-pages', T0 + MINUTE);
      // A re-save moves updated_at and save_count, never the listing order.
      await ctx()
        .tdb.db.kysely.updateTable('leads')
        .set((eb) => ({ updated_at: T0 + 200 * MINUTE + n, save_count: eb('save_count', '+', 1) }))
        .where('prospect_uuid', '=', originals[n] as string)
        .execute();
      n++;
    });
    const keys = seen.map((l) => l.prospectUuid);
    noDuplicates(keys);
    for (const id of originals) assert.ok(keys.includes(id), `${id} was skipped`);
    assertError(await get('/dealers/d-lead-pages/leads?cursor=WyJhIiwxXQ'), 400, 'VALIDATION_FAILED');
  });

  test('dealer views need the admin token', async () => {
    for (const url of ['/dealers/d-1/leads', '/dealers/d-1/chat-summaries']) {
      const none = await ctx().app.inject({ method: 'GET', url: `${ADMIN}${url}` });
      assert.equal(none.statusCode, 401);
      const partner = await ctx().app.inject({
        method: 'GET',
        url: `${ADMIN}${url}`,
        headers: { authorization: basic('writer', PASSWORD) },
      });
      assert.equal(partner.statusCode, 401);
    }
  });
});
