// The operator's dry run: a candidate configuration tried on a stored event or a pasted body,
// with the diff against the stored outcome — and nothing saved (both databases).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { acceptEvent, chatBody, drain, eventRow, eventsFixture, makeWorker } from '../helpers/events.js';
import { describeEachDialect } from '../helpers/suite.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
const URL = '/admin/v1/integrations/switch/vehicle-service-chat/dry-run';

const dryRun = (app: FastifyInstance, payload: unknown, url = URL) =>
  app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN}` }, payload: payload as object });

describeEachDialect('admin API: integration dry run', { fixture: eventsFixture, env: { ADMIN_TOKEN: TOKEN } }, (ctx) => {
  test('a candidate dealer map turns a stored REJECTED event PROCESSED in the preview, and saves nothing', async () => {
    const c = ctx();
    const id = await acceptEvent(c.app, chatBody({ chat_code: 'DRY-1', dealer_uuid: 'EXT-55' }), { username: 'switch' });
    await drain(makeWorker(c.tdb.db, c.app.directory, c.tdb.config.worker));
    assert.equal((await eventRow(c.tdb.db.kysely, id)).status, 'REJECTED');

    const asStored = await dryRun(c.app, { requestId: id });
    assert.equal(asStored.statusCode, 200, asStored.body);
    assert.equal(asStored.json().status, 'REJECTED');
    assert.equal(asStored.json().diff.statusChanged, false);

    const fixed = await dryRun(c.app, { requestId: id, candidate: { dealerMap: { 'EXT-55': 'd-2' } } });
    assert.equal(fixed.statusCode, 200, fixed.body);
    const result = fixed.json();
    assert.equal(result.status, 'PROCESSED');
    assert.equal(result.dealerUuid, 'd-2');
    assert.equal(result.canonical.chat_code, 'DRY-1');
    assert.equal(result.diff.statusChanged, true);
    assert.equal(result.diff.before.status, 'REJECTED');
    assert.ok(result.diff.changedFields.includes('chat_code'));

    // Nothing saved: the event, its summary and the integration are as they were.
    assert.equal((await eventRow(c.tdb.db.kysely, id)).status, 'REJECTED');
    const summary = await c.tdb.db.kysely.selectFrom('chat_summaries').select('request_id').where('request_id', '=', id).executeTakeFirst();
    assert.equal(summary, undefined);
    const integration = await c.tdb.db.kysely
      .selectFrom('integrations')
      .select('dealer_map')
      .where('username', '=', 'switch')
      .executeTakeFirstOrThrow();
    assert.ok(!integration.dealer_map.includes('EXT-55'));
  });

  test('a pasted body, as JSON text or as an object', async () => {
    const { app } = ctx();
    for (const body of [JSON.stringify(chatBody({ dealer_uuid: 'd-1' })), chatBody({ dealer_uuid: 'd-1' })]) {
      const res = await dryRun(app, { body });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().status, 'PROCESSED');
      assert.equal(res.json().diff, null);
    }
  });

  test("bad requests are clear 4xx: both or neither source, a broken candidate, another partner's event", async () => {
    const c = ctx();
    const theirs = await acceptEvent(c.app, chatBody(), { username: 'multi-partner' });
    const cases: [unknown, number, string][] = [
      [{}, 400, 'VALIDATION_FAILED'],
      [{ requestId: theirs, body: '{}' }, 400, 'VALIDATION_FAILED'],
      [{ body: chatBody(), candidate: { transform: '$$$ (' } }, 400, 'VALIDATION_FAILED'],
      [{ body: chatBody(), candidate: { colour: 'red' } }, 400, 'VALIDATION_FAILED'],
      [{ body: '[1, 2]' }, 400, 'BODY_NOT_OBJECT'],
      [{ requestId: theirs }, 404, 'EVENT_NOT_FOUND'],
    ];
    for (const [payload, status, code] of cases) {
      const res = await dryRun(c.app, payload);
      assert.equal(res.statusCode, status, JSON.stringify(payload));
      assert.equal(res.json().error.code, code, `${JSON.stringify(payload)}: ${res.body}`);
    }
    const unknownType = await dryRun(c.app, { body: '{}' }, '/admin/v1/integrations/switch/other-type/dry-run');
    assert.equal(unknownType.statusCode, 400);
  });
});
