// The event status endpoint: what became of an event, for the subscriber that sent it only.
// RECEIVED until the worker has run; PROCESSED with the canonical record; REJECTED with its errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  acceptEvent,
  chatBody,
  EVENTS_URL,
  eventRow,
  eventsFixture,
  getStatus,
  makeWorker,
  PASSWORD,
  type StatusBody,
  statusOf,
  VIN_1,
} from '../helpers/events.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const STATUS_KEYS = ['requestId', 'status', 'receivedAt', 'processedAt', 'errors', 'warnings', 'event'];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describeEachDialect('events status endpoint', { fixture: eventsFixture }, (ctx) => {
  const worker = () => makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker);
  /** A clock after every event sent so far, so a fixed-clock batch claims them. */
  const later = () => Date.now() + 1000;

  function assertShape(body: StatusBody): void {
    assert.deepEqual(Object.keys(body), STATUS_KEYS, 'exactly these keys, in this order');
    assert.match(body.receivedAt, ISO);
    if (body.processedAt !== null) assert.match(body.processedAt, ISO);
    assert.ok(Array.isArray(body.errors));
    assert.ok(Array.isArray(body.warnings));
  }

  test('RECEIVED before processing: processedAt null, event null, no errors or warnings', async () => {
    const requestId = await acceptEvent(ctx().app, chatBody());
    const res = await getStatus(ctx().app, requestId);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json() as StatusBody;
    assertShape(body);
    const row = await eventRow(ctx().tdb.db.kysely, requestId);
    assert.deepEqual(body, {
      requestId,
      status: 'RECEIVED',
      receivedAt: new Date(row.received_at).toISOString(),
      processedAt: null,
      errors: [],
      warnings: [],
      event: null,
    });
  });

  test('PROCESSED after the worker ran: the canonical record, snake_case, with our dealer UUID for a mapped partner id', async () => {
    const sent = chatBody({ dealer_uuid: 'EXT-1', chat_code: 'STATUS-1', escalation_flag: true });
    const { event_timestamp: _none, ...withoutTimestamp } = sent;
    const requestId = await acceptEvent(ctx().app, withoutTimestamp);
    const now = later();
    const report = await worker().runOnce(now);
    assert.ok(report.processed >= 1);

    const body = await statusOf(ctx().app, requestId);
    assertShape(body);
    assert.equal(body.requestId, requestId);
    assert.equal(body.status, 'PROCESSED');
    assert.equal(body.processedAt, new Date(now).toISOString());
    assert.deepEqual(body.errors, []);
    assert.deepEqual(body.warnings, []);
    const row = await eventRow(ctx().tdb.db.kysely, requestId);
    assert.deepEqual(body.event, {
      customer_name: 'Jane Doe',
      vin: VIN_1,
      chat_code: 'STATUS-1',
      vehicle_uuid: 'v-1',
      appointment_uuid: 'appt-1',
      dealer_uuid: 'd-1',
      event_timestamp: row.received_at,
      summary: sent.summary,
      escalation_flag: true,
      line_items: sent.line_items,
      transcript: sent.transcript,
      media: sent.media,
    });
    // event_timestamp defaulted to the receipt time, in epoch milliseconds.
    assert.equal(body.event?.event_timestamp, Date.parse(body.receivedAt));
    assert.equal(row.dealer_uuid, 'd-1');
  });

  test('PROCESSED keeps a sent event_timestamp and lists warnings', async () => {
    const requestId = await acceptEvent(ctx().app, chatBody({ event_timestamp: 1_700_000_123_456, mood: 'happy' }));
    await worker().runOnce(later());
    const body = await statusOf(ctx().app, requestId);
    assert.equal(body.status, 'PROCESSED');
    assert.equal(body.event?.event_timestamp, 1_700_000_123_456);
    assert.equal(body.event?.mood, undefined, 'unknown fields are not part of the record');
    assert.deepEqual(
      body.warnings.map((w) => w.warningCode),
      ['UNKNOWN_FIELD'],
    );
    assert.match(body.warnings[0]?.warningMessage ?? '', /'mood'/);
  });

  test('REJECTED lists every error; event stays null', async () => {
    const requestId = await acceptEvent(
      ctx().app,
      chatBody({ dealer_uuid: 'EXT-UNKNOWN', event_timestamp: 1_700_000_000, escalation_flag: 'yes' }),
    );
    const now = later();
    await worker().runOnce(now);
    const body = await statusOf(ctx().app, requestId);
    assertShape(body);
    assert.equal(body.status, 'REJECTED');
    assert.equal(body.processedAt, new Date(now).toISOString());
    assert.equal(body.event, null);
    assert.deepEqual(body.errors.map((e) => e.errorCode).sort(), ['DEALER_NOT_MAPPED', 'INVALID_EVENT_TIMESTAMP', 'INVALID_FIELD']);
    for (const e of body.errors) {
      assert.deepEqual(Object.keys(e).sort(), ['errorCode', 'errorMessage']);
      assert.ok(e.errorMessage.length > 0);
    }
  });

  test('another subscriber asking → 404 EVENT_NOT_FOUND in the events envelope', async () => {
    const requestId = await acceptEvent(ctx().app, chatBody());
    await worker().runOnce(later());
    for (const other of ['partner', 'no-integration', 'inactive-partner']) {
      const res = await getStatus(ctx().app, requestId, other);
      assert.equal(res.statusCode, 404, `${other}: ${res.body}`);
      assert.deepEqual(res.json(), {
        errors: [{ errorCode: 'EVENT_NOT_FOUND', errorMessage: `No event ${requestId} from this subscriber` }],
        warnings: [],
        requestId: null,
      });
    }
  });

  test('unknown id → 404 EVENT_NOT_FOUND', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await getStatus(ctx().app, id);
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().errors[0].errorCode, 'EVENT_NOT_FOUND');
      assert.equal(res.json().requestId, null);
    }
  });

  test('an id longer than 64 characters → 400 VALIDATION_FAILED', async () => {
    const res = await getStatus(ctx().app, 'x'.repeat(65));
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().errors[0].errorCode, 'VALIDATION_FAILED');
  });

  test('the status endpoint needs credentials: none → 401 with WWW-Authenticate', async () => {
    const requestId = await acceptEvent(ctx().app, chatBody());
    const res = await ctx().app.inject({ method: 'GET', url: `${EVENTS_URL}/${requestId}` });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().errors[0].errorCode, 'NULL_CREDENTIALS');
    assert.ok(res.headers['www-authenticate']);
    const wrong = await ctx().app.inject({
      method: 'GET',
      url: `${EVENTS_URL}/${requestId}`,
      headers: { authorization: basic('multi-partner', `${PASSWORD}x`) },
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().errors[0].errorCode, 'WRONG_CREDENTIAL');
  });

  test('a partner whose integration was switched off can still read what became of its events', async () => {
    const requestId = await acceptEvent(ctx().app, chatBody(), { username: 'switch' });
    await worker().runOnce(later());
    assert.equal((await statusOf(ctx().app, requestId, 'switch')).status, 'PROCESSED');
    await ctx().provision({ integrations: [{ subscriber: 'switch', eventType: 'vehicle-service-chat', active: false }] });
    try {
      const body = await statusOf(ctx().app, requestId, 'switch');
      assert.equal(body.status, 'PROCESSED');
      assert.equal(body.event?.dealer_uuid, 'd-1');
    } finally {
      await ctx().provision({ integrations: [{ subscriber: 'switch', eventType: 'vehicle-service-chat', dealerMap: {} }] });
    }
  });
});
