// Inputs that once slipped through the gate only to fail in the worker, or cost the service work
// for callers that are not partners.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { countRows, drain, EVENTS_URL, eventsFixture, makeWorker, PASSWORD, statusOf } from '../helpers/events.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describeEachDialect('event gate: hardening', { fixture: eventsFixture, env: { MAX_BODY_BYTES: '4096' } }, (ctx) => {
  const post = (payload: string | Buffer, username = 'multi-partner') =>
    ctx().app.inject({
      method: 'POST',
      url: EVENTS_URL,
      headers: { authorization: basic(username, PASSWORD), 'content-type': 'application/json' },
      payload,
    });

  test('a body nested deeper than 64 levels → 400, nothing stored', async () => {
    const before = await countRows(ctx().tdb.db.kysely, 'events');
    const res = await post(`{"dealer_uuid":"d-1","vin":${nested(1000)}}`);
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().errors[0].errorCode, 'VALIDATION_FAILED');
    assert.match(res.json().errors[0].errorMessage, /nested deeper than 64/);
    assert.equal(await countRows(ctx().tdb.db.kysely, 'events'), before);
  });

  test('one byte-order mark is accepted and processed; two are not JSON', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const body = Buffer.from('{"dealer_uuid":"d-1","summary":"bom"}');
    const one = await post(Buffer.concat([bom, body]));
    assert.equal(one.statusCode, 200);
    const requestId = one.json().requestId as string;
    await drain(makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker));
    assert.equal((await statusOf(ctx().app, requestId)).status, 'PROCESSED');
    const two = await post(Buffer.concat([bom, bom, body]));
    assert.equal(two.statusCode, 400);
    assert.equal(two.json().errors[0].errorCode, 'INVALID_JSON');
  });

  test('a caller that is not a partner gets 403 INVALID_EVENT_SOURCE even for an oversized body', async () => {
    const res = await post(`{"dealer_uuid":"d-1","summary":"${'x'.repeat(8000)}"}`, 'no-integration');
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().errors[0].errorCode, 'INVALID_EVENT_SOURCE');
  });

  test('a partner schema may change while keeping its $id', async () => {
    const schema = (required: string[]) => ({ $id: 'https://partner.example/chat.json', type: 'object', required });
    const doc = (required: string[]) => ({
      integrations: [{ subscriber: 'multi-partner', eventType: 'vehicle-service-chat', schema: schema(required) }],
    });
    await applyProvisioning(ctx().tdb.db.kysely, doc(['dealer_uuid']));
    const report = await applyProvisioning(ctx().tdb.db.kysely, doc(['dealer_uuid', 'summary']));
    assert.equal(report.integrations.updated, 1);
    await ctx().app.directory.refresh();
    const res = await post('{"dealer_uuid":"d-1"}');
    await drain(makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker));
    const status = await statusOf(ctx().app, res.json().requestId);
    assert.equal(status.status, 'REJECTED');
    assert.deepEqual(
      status.errors.map((e) => e.errorCode),
      ['SCHEMA_VIOLATION'],
    );
  });
});
