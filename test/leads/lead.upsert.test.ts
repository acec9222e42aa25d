// Lead identity (src/leads/lead.key.ts): when a save updates an existing lead and when it creates
// a new one — including under concurrent saves, in one app and across two apps on one database.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const writer = basic('writer', PASSWORD);
const multi = basic('multi', PASSWORD);

interface SaveReply {
  error: unknown;
  isNewCreated: boolean;
  prospectUuid: string;
  statusCode: number;
  warnings: unknown[];
}

/** leadBody() without a leadId, made distinct from other tests' natural keys by its webId. */
function naturalBody(webId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const body = leadBody({ webId });
  delete body.leadId;
  return { ...body, ...overrides };
}

describeEachDialect('leads: upsert identity', { fixture: baseFixture }, (ctx) => {
  const saveOn = async (app: FastifyInstance, body: unknown, dealer = 'd-1', auth = writer): Promise<SaveReply> => {
    const res = await app.inject({
      method: 'POST',
      url: `/leads/v2/dealer/${dealer}`,
      headers: { authorization: auth },
      payload: body as object,
    });
    assert.equal(res.statusCode, 200, res.body);
    const reply = res.json() as SaveReply;
    assert.equal(reply.error, null);
    assert.equal(reply.statusCode, 200);
    return reply;
  };
  const save = (body: unknown, dealer = 'd-1', auth = writer) => saveOn(ctx().app, body, dealer, auth);
  const read = async (prospectUuid: string, dealer = 'd-1', auth = writer) => {
    const res = await ctx().app.inject({
      method: 'GET',
      url: `/leads/v2/dealer/${dealer}/lead/${prospectUuid}`,
      headers: { authorization: auth },
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().lead;
  };
  const rowsWhere = (column: 'lead_id' | 'web_id', value: string) =>
    ctx().tdb.db.kysely.selectFrom('leads').select(['prospect_uuid', 'dealer_uuid', 'save_count']).where(column, '=', value).execute();

  // --- with a leadId ---------------------------------------------------------------------------

  test('same leadId, same dealer → same lead, isNewCreated false, stored fields updated', async () => {
    const first = await save(leadBody({ leadId: 'up-1' }));
    assert.equal(first.isNewCreated, true);
    const before = await read(first.prospectUuid);
    assert.equal(before.saveCount, 1);

    const changed = leadBody({
      leadId: 'up-1',
      vehicle: { uuid: 'v-1', trackingId: 'T-2', topic: 'NO_CONTRACT', description: 'Changed description' },
      dealerDetails: { name: 'Renamed LLC', code: 'TI-2', source: 'AUTOPOINT' },
      services: [{ name: 'Service B', code: 'MBVANS-B', type: 'retail', dueDate: '2024-01-15' }],
      campaign: { name: 'SPRING', code: 'S' },
      lastContactDate: '2023-07-01 09:30:00+02:00',
      webId: 'web-changed',
      leadType: 'SERVICE_DEMAND',
    });
    const second = await save(changed);
    assert.equal(second.isNewCreated, false);
    assert.equal(second.prospectUuid, first.prospectUuid);

    const after = await read(first.prospectUuid);
    assert.equal(after.saveCount, 2);
    assert.equal(after.prospectUuid, first.prospectUuid);
    assert.equal(after.dealerUuid, 'd-1');
    assert.equal(after.leadId, 'up-1');
    assert.deepEqual(after.vehicle, { uuid: 'v-1', trackingId: 'T-2', topic: 'NO_CONTRACT', description: 'Changed description' });
    assert.deepEqual(after.dealerDetails, { name: 'Renamed LLC', code: 'TI-2', source: 'AUTOPOINT' });
    assert.deepEqual(after.services, [{ name: 'Service B', code: 'MBVANS-B', type: 'retail', dueDate: '2024-01-15' }]);
    assert.deepEqual(after.campaign, { name: 'SPRING', code: 'S' });
    assert.equal(after.lastContactDate, '2023-07-01 07:30:00Z');
    assert.equal(after.webId, 'web-changed');
    assert.equal(after.leadType, 'SERVICE_DEMAND');
    assert.equal(after.createdAt, before.createdAt, 'createdAt is kept');
    assert.ok(Date.parse(after.updatedAt) >= Date.parse(before.updatedAt), 'updatedAt does not go back');

    const rows = await rowsWhere('lead_id', 'up-1');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.save_count, 2);
  });

  test('same leadId with another customer and vehicle of the dealer → still the same lead, now pointing at them', async () => {
    const first = await save(leadBody({ leadId: 'up-move' }));
    const second = await save(leadBody({ leadId: 'up-move', customer: { uuid: 'c-3' }, vehicle: { uuid: 'v-3' } }));
    assert.equal(second.isNewCreated, false);
    assert.equal(second.prospectUuid, first.prospectUuid);
    const lead = await read(first.prospectUuid);
    assert.equal(lead.customer.uuid, 'c-3');
    assert.equal(lead.vehicle.uuid, 'v-3');
    const row = await ctx()
      .tdb.db.kysely.selectFrom('leads')
      .select(['customer_uuid', 'vehicle_uuid'])
      .where('prospect_uuid', '=', first.prospectUuid)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { customer_uuid: 'c-3', vehicle_uuid: 'v-3' });
  });

  test('different leadIds → different leads, even with an otherwise identical body', async () => {
    const a = await save(leadBody({ leadId: 'up-a' }));
    const b = await save(leadBody({ leadId: 'up-b' }));
    assert.equal(a.isNewCreated, true);
    assert.equal(b.isNewCreated, true);
    assert.notEqual(a.prospectUuid, b.prospectUuid);
    assert.equal((await read(a.prospectUuid)).leadId, 'up-a');
    assert.equal((await read(b.prospectUuid)).leadId, 'up-b');
  });

  test('leadIds are case- and space-sensitive: "up-c", "UP-C" and "up-c " are three leads', async () => {
    const ids = await Promise.all(['up-c', 'UP-C', 'up-c '].map(async (leadId) => (await save(leadBody({ leadId }))).prospectUuid));
    assert.equal(new Set(ids).size, 3);
  });

  test('same leadId at two dealers → two leads, each readable only under its own dealer', async () => {
    const atD1 = await save(leadBody({ leadId: 'up-shared' }), 'd-1', multi);
    const atD2 = await save(leadBody({ leadId: 'up-shared', customer: { uuid: 'c-2' }, vehicle: { uuid: 'v-2' } }), 'd-2', multi);
    assert.equal(atD1.isNewCreated, true);
    assert.equal(atD2.isNewCreated, true);
    assert.notEqual(atD1.prospectUuid, atD2.prospectUuid);

    assert.equal((await read(atD1.prospectUuid, 'd-1', multi)).customer.uuid, 'c-1');
    assert.equal((await read(atD2.prospectUuid, 'd-2', multi)).customer.uuid, 'c-2');
    const crossed = await ctx().app.inject({
      method: 'GET',
      url: `/leads/v2/dealer/d-2/lead/${atD1.prospectUuid}`,
      headers: { authorization: multi },
    });
    assert.equal(crossed.statusCode, 404);

    // A second save at d-2 updates d-2's lead only.
    const again = await save(
      leadBody({ leadId: 'up-shared', customer: { uuid: 'c-2' }, vehicle: { uuid: 'v-2' }, lastContactDate: '2023-08-01 00:00:00Z' }),
      'd-2',
      multi,
    );
    assert.equal(again.isNewCreated, false);
    assert.equal(again.prospectUuid, atD2.prospectUuid);
    assert.equal((await read(atD1.prospectUuid, 'd-1', multi)).saveCount, 1);
    assert.equal((await read(atD2.prospectUuid, 'd-2', multi)).saveCount, 2);

    const rows = await rowsWhere('lead_id', 'up-shared');
    assert.deepEqual(rows.map((r) => r.dealer_uuid).sort(), ['d-1', 'd-2']);
  });

  // --- without a leadId ------------------------------------------------------------------------

  test('without leadId an identical re-post → same lead, isNewCreated false', async () => {
    const first = await save(naturalBody('nat-1'));
    assert.equal(first.isNewCreated, true);
    const second = await save(naturalBody('nat-1'));
    assert.equal(second.isNewCreated, false);
    assert.equal(second.prospectUuid, first.prospectUuid);
    const lead = await read(first.prospectUuid);
    assert.equal(lead.saveCount, 2);
    assert.equal(lead.leadId, null);
  });

  test('without leadId a changed lastContactDate → same lead, date updated', async () => {
    const first = await save(naturalBody('nat-2'));
    const second = await save(naturalBody('nat-2', { lastContactDate: '2023-09-10 08:15:00-0500' }));
    assert.equal(second.isNewCreated, false);
    assert.equal(second.prospectUuid, first.prospectUuid);
    const lead = await read(first.prospectUuid);
    assert.equal(lead.lastContactDate, '2023-09-10 13:15:00Z');
    assert.equal(lead.saveCount, 2);
  });

  test('without leadId changed descriptive fields (names, descriptions, dueDate) → same lead', async () => {
    const first = await save(naturalBody('nat-3'));
    const second = await save(
      naturalBody('nat-3', {
        vehicle: { uuid: 'v-1', trackingId: 'T-9', topic: 'OTHER', description: 'new words' },
        dealerDetails: { name: 'Another name', code: 'X', source: 'MMC' },
        services: [{ name: 'Renamed service', code: 'MBVANS-A', type: 'other', dueDate: '2023-12-31' }],
        campaign: { name: 'Renamed campaign', code: 'A' },
      }),
    );
    assert.equal(second.isNewCreated, false);
    assert.equal(second.prospectUuid, first.prospectUuid);
    const lead = await read(first.prospectUuid);
    assert.equal(lead.vehicle.description, 'new words');
    assert.equal(lead.services[0].dueDate, '2023-12-31');
  });

  test('without leadId the same service codes in another order (or repeated) → same lead', async () => {
    const services = (...codes: string[]) => codes.map((code) => ({ code }));
    const first = await save(naturalBody('nat-4', { services: services('A', 'B', 'C') }));
    const reordered = await save(naturalBody('nat-4', { services: services('C', 'A', 'B') }));
    const repeated = await save(naturalBody('nat-4', { services: services('B', 'A', 'C', 'A') }));
    assert.equal(reordered.isNewCreated, false);
    assert.equal(repeated.isNewCreated, false);
    assert.equal(reordered.prospectUuid, first.prospectUuid);
    assert.equal(repeated.prospectUuid, first.prospectUuid);
  });

  test('without leadId different service codes → a different lead', async () => {
    const first = await save(naturalBody('nat-5', { services: [{ code: 'MBVANS-A' }] }));
    const other = await save(naturalBody('nat-5', { services: [{ code: 'MBVANS-B' }] }));
    const more = await save(naturalBody('nat-5', { services: [{ code: 'MBVANS-A' }, { code: 'MBVANS-B' }] }));
    assert.equal(other.isNewCreated, true);
    assert.equal(more.isNewCreated, true);
    assert.equal(new Set([first.prospectUuid, other.prospectUuid, more.prospectUuid]).size, 3);
    assert.equal((await rowsWhere('web_id', 'nat-5')).length, 3);
  });

  test('without leadId a different identity field (leadType, source, customer/vehicle, campaign code, webId) → a different lead', async () => {
    const base = await save(naturalBody('nat-6'));
    const variants = [
      naturalBody('nat-6', { leadType: 'SERVICE_DEMAND' }),
      naturalBody('nat-6', { dealerDetails: { source: 'BMW_SPARC' } }),
      naturalBody('nat-6', { customer: { uuid: 'c-3' }, vehicle: { uuid: 'v-3' } }),
      naturalBody('nat-6', { campaign: { name: 'MBVANS', code: 'B' } }),
      naturalBody('nat-6-other'),
    ];
    const ids = [base.prospectUuid];
    for (const body of variants) {
      const r = await save(body);
      assert.equal(r.isNewCreated, true, JSON.stringify(body));
      ids.push(r.prospectUuid);
    }
    assert.equal(new Set(ids).size, ids.length);
  });

  test('an empty-string leadId behaves like no leadId (and like null)', async () => {
    const withEmpty = await save(naturalBody('nat-7', { leadId: '' }));
    assert.equal(withEmpty.isNewCreated, true);
    const withoutId = await save(naturalBody('nat-7'));
    assert.equal(withoutId.isNewCreated, false);
    assert.equal(withoutId.prospectUuid, withEmpty.prospectUuid);
    const withNull = await save(naturalBody('nat-7', { leadId: null }));
    assert.equal(withNull.isNewCreated, false);
    assert.equal(withNull.prospectUuid, withEmpty.prospectUuid);
    const emptyAgain = await save(naturalBody('nat-7', { leadId: '' }));
    assert.equal(emptyAgain.prospectUuid, withEmpty.prospectUuid);
    const lead = await read(withEmpty.prospectUuid);
    assert.equal(lead.leadId, null);
    assert.equal(lead.saveCount, 4);
  });

  test('a save with a leadId and one without are different leads', async () => {
    const keyed = await save(naturalBody('nat-8', { leadId: 'up-nat-8' }));
    const natural = await save(naturalBody('nat-8'));
    assert.equal(natural.isNewCreated, true);
    assert.notEqual(natural.prospectUuid, keyed.prospectUuid);
  });

  // --- races -----------------------------------------------------------------------------------

  const assertOneWinner = (replies: SaveReply[]) => {
    assert.equal(replies.filter((r) => r.isNewCreated === true).length, 1, 'exactly one save created the lead');
    assert.equal(replies.filter((r) => r.isNewCreated === false).length, replies.length - 1);
    const ids = new Set(replies.map((r) => r.prospectUuid));
    assert.equal(ids.size, 1, 'every save answered the same prospectUuid');
    return [...ids][0] as string;
  };

  test('THE RACE: 20 identical saves at once → one created, all the same prospectUuid, one row', async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, () => save(leadBody({ leadId: 'race-1' }))));
    const prospectUuid = assertOneWinner(replies);
    const rows = await rowsWhere('lead_id', 'race-1');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.prospect_uuid, prospectUuid);
    assert.equal(rows[0]?.save_count, 20, 'every save was applied');
    assert.equal((await read(prospectUuid)).saveCount, 20);
  });

  test('the race without a leadId (natural key, varying lastContactDate) → one lead', async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        save(naturalBody('race-nat', { lastContactDate: `2023-06-08 11:00:${String(i).padStart(2, '0')}Z` })),
      ),
    );
    const prospectUuid = assertOneWinner(replies);
    const rows = await rowsWhere('web_id', 'race-nat');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.prospect_uuid, prospectUuid);
    assert.equal(rows[0]?.save_count, 20);
  });

  test('the race across two app instances on the same database → one created, one row', async () => {
    const { tdb } = ctx();
    const app2 = await buildApp(tdb.config, { db: tdb.connectAgain(), logger: false });
    try {
      await app2.directory.refresh(true);
      // Warm both apps' credential caches so the saves themselves, not scrypt, are what overlaps.
      await saveOn(ctx().app, leadBody({ leadId: 'race-2-warm' }));
      await saveOn(app2, leadBody({ leadId: 'race-2-warm' }));

      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => saveOn(i % 2 === 0 ? ctx().app : app2, leadBody({ leadId: 'race-2' }))),
      );
      const prospectUuid = assertOneWinner(replies);
      const rows = await rowsWhere('lead_id', 'race-2');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.prospect_uuid, prospectUuid);
      assert.equal(rows[0]?.save_count, 20);

      // Each app reads what the other wrote.
      const via2 = await app2.inject({
        method: 'GET',
        url: `/leads/v2/dealer/d-1/lead/${prospectUuid}`,
        headers: { authorization: writer },
      });
      assert.equal(via2.statusCode, 200);
      assert.equal(via2.json().lead.saveCount, 20);
    } finally {
      await app2.close();
    }
  });

  test('the race across two apps and two dealers with one leadId → exactly one lead per dealer', async () => {
    const { tdb } = ctx();
    const app2 = await buildApp(tdb.config, { db: tdb.connectAgain(), logger: false });
    try {
      await app2.directory.refresh(true);
      // Warm both apps' credential caches for 'multi'.
      await saveOn(ctx().app, leadBody({ leadId: 'race-3-warm' }), 'd-1', multi);
      await saveOn(app2, leadBody({ leadId: 'race-3-warm' }), 'd-1', multi);
      const d2Body = leadBody({ leadId: 'race-3', customer: { uuid: 'c-2' }, vehicle: { uuid: 'v-2' } });
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const app = i % 2 === 0 ? ctx().app : app2;
          return i % 4 < 2 ? saveOn(app, leadBody({ leadId: 'race-3' }), 'd-1', multi) : saveOn(app, d2Body, 'd-2', multi);
        }),
      );
      const d1 = replies.filter((_, i) => i % 4 < 2);
      const d2 = replies.filter((_, i) => i % 4 >= 2);
      const p1 = assertOneWinner(d1);
      const p2 = assertOneWinner(d2);
      assert.notEqual(p1, p2);
      const rows = await rowsWhere('lead_id', 'race-3');
      assert.deepEqual(rows.map((r) => [r.dealer_uuid, r.prospect_uuid, r.save_count]).sort(), [
        ['d-1', p1, 10],
        ['d-2', p2, 10],
      ]);
    } finally {
      await app2.close();
    }
  });
});
