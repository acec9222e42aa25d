// The vehicle service chat summary gate, every branch, on both dialects: authentication, the event
// source check (an active integration and the scope), the body checks, the dealer scope check that
// can be made before storing, the durable store of the exact bytes, Idempotency-Key, and an
// unavailable database. Whatever the gate refuses leaves nothing in the events table.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import {
  acceptEvent,
  chatBody,
  countRows,
  EVENTS_URL,
  eventRow,
  eventsFixture,
  makeWorker,
  PASSWORD,
  sendEvent,
  statusOf,
  transformerBody,
  UUID_V7,
} from '../helpers/events.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const MAX_BODY_BYTES = 2048;

/** The events envelope of a refused request: one error with `code`, no warnings, no requestId. */
function assertRefused(res: LightMyRequestResponse, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json();
  assert.deepEqual(Object.keys(body).sort(), ['errors', 'requestId', 'warnings']);
  assert.equal(body.errors.length, 1);
  assert.equal(body.errors[0].errorCode, code);
  assert.equal(typeof body.errors[0].errorMessage, 'string');
  assert.ok(body.errors[0].errorMessage.length > 0);
  assert.deepEqual(body.warnings, []);
  assert.equal(body.requestId, null);
}

describeEachDialect('events gate', { fixture: eventsFixture, env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES) } }, (ctx) => {
  const events = () => countRows(ctx().tdb.db.kysely, 'events');

  /** Runs `fn` and asserts that it stored no event. */
  async function storesNothing(fn: () => Promise<void>): Promise<void> {
    const before = await events();
    await fn();
    assert.equal(await events(), before, 'nothing is stored');
  }

  describe('authentication', () => {
    test('no Authorization header → 401 NULL_CREDENTIALS in the events envelope, with WWW-Authenticate', async () => {
      await storesNothing(async () => {
        const res = await sendEvent(ctx().app, chatBody(), { noAuth: true });
        assertRefused(res, 401, 'NULL_CREDENTIALS');
        assert.match(String(res.headers['www-authenticate']), /^Basic realm="dealer-gateway"/);
      });
    });

    test('wrong password → 401 WRONG_CREDENTIAL, with WWW-Authenticate', async () => {
      await storesNothing(async () => {
        const res = await sendEvent(ctx().app, chatBody(), { password: 'not-the-password' });
        assertRefused(res, 401, 'WRONG_CREDENTIAL');
        assert.match(String(res.headers['www-authenticate']), /^Basic /);
      });
    });

    test('unknown user and disabled subscriber → 401 WRONG_CREDENTIAL', async () => {
      await storesNothing(async () => {
        assertRefused(await sendEvent(ctx().app, chatBody(), { username: 'nobody' }), 401, 'WRONG_CREDENTIAL');
        assertRefused(await sendEvent(ctx().app, chatBody(), { username: 'off' }), 401, 'WRONG_CREDENTIAL');
      });
    });

    test('a malformed Authorization header → 401 MALFORMED_CREDENTIALS', async () => {
      await storesNothing(async () => {
        const res = await ctx().app.inject({
          method: 'POST',
          url: EVENTS_URL,
          headers: { authorization: 'Bearer abc', 'content-type': 'application/json' },
          payload: JSON.stringify(chatBody()),
        });
        assertRefused(res, 401, 'MALFORMED_CREDENTIALS');
        assert.ok(res.headers['www-authenticate']);
      });
    });

    test('credentials are checked before the body: no credentials and invalid JSON → 401, not 400', async () => {
      assertRefused(await sendEvent(ctx().app, '{nope', { noAuth: true }), 401, 'NULL_CREDENTIALS');
    });
  });

  describe('event source (step 2)', () => {
    test('a subscriber with the scope but no integration → 403 INVALID_EVENT_SOURCE, nothing stored', async () => {
      await storesNothing(async () => {
        assertRefused(await sendEvent(ctx().app, chatBody(), { username: 'no-integration' }), 403, 'INVALID_EVENT_SOURCE');
      });
    });

    test('a subscriber whose integration is inactive → 403 INVALID_EVENT_SOURCE, nothing stored', async () => {
      await storesNothing(async () => {
        assertRefused(await sendEvent(ctx().app, chatBody(), { username: 'inactive-partner' }), 403, 'INVALID_EVENT_SOURCE');
      });
    });

    test('a subscriber with an integration but no spd.events scope at all → 403 INVALID_EVENT_SOURCE, nothing stored', async () => {
      await storesNothing(async () => {
        assertRefused(await sendEvent(ctx().app, chatBody(), { username: 'no-scope' }), 403, 'INVALID_EVENT_SOURCE');
      });
    });

    test('the source is checked before the body: not a source and invalid JSON → 403, not 400', async () => {
      await storesNothing(async () => {
        assertRefused(await sendEvent(ctx().app, '{nope', { username: 'no-integration' }), 403, 'INVALID_EVENT_SOURCE');
      });
    });
  });

  describe('body checks', () => {
    const refusedBodies: [string, string | Buffer, string][] = [
      ['invalid JSON', '{"dealer_uuid": "d-1",', 'INVALID_JSON'],
      ['a trailing comma', '{"dealer_uuid": "d-1",}', 'INVALID_JSON'],
      ['an empty body', '', 'INVALID_JSON'],
      ['a whitespace-only body', ' \n\t ', 'INVALID_JSON'],
      ['invalid UTF-8 bytes', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'INVALID_JSON'],
      ['an overlong UTF-8 encoding', Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]), 'INVALID_JSON'],
      ['a JSON array', '[{"dealer_uuid":"d-1"}]', 'BODY_NOT_OBJECT'],
      ['a JSON string', '"{\\"dealer_uuid\\":\\"d-1\\"}"', 'BODY_NOT_OBJECT'],
      ['JSON null', 'null', 'BODY_NOT_OBJECT'],
      ['a JSON number', '42', 'BODY_NOT_OBJECT'],
      ['JSON true', 'true', 'BODY_NOT_OBJECT'],
    ];
    for (const [what, payload, code] of refusedBodies) {
      test(`${what} → 400 ${code}, nothing stored`, async () => {
        await storesNothing(async () => {
          assertRefused(await sendEvent(ctx().app, payload), 400, code);
        });
      });
    }

    test('an empty body without Content-Type → 400 INVALID_JSON', async () => {
      await storesNothing(async () => {
        assertRefused(await sendEvent(ctx().app, '', { contentType: null }), 400, 'INVALID_JSON');
      });
    });

    test(`a body over MAX_BODY_BYTES (${MAX_BODY_BYTES}) → 413 PAYLOAD_TOO_LARGE, nothing stored`, async () => {
      await storesNothing(async () => {
        const body = JSON.stringify(chatBody({ summary: 'x'.repeat(MAX_BODY_BYTES) }));
        assert.ok(Buffer.byteLength(body) > MAX_BODY_BYTES);
        assertRefused(await sendEvent(ctx().app, body), 413, 'PAYLOAD_TOO_LARGE');
        assertRefused(await sendEvent(ctx().app, body, { contentType: 'text/plain' }), 413, 'PAYLOAD_TOO_LARGE');
      });
    });

    test('a body of exactly MAX_BODY_BYTES is accepted', async () => {
      const base = JSON.stringify({ dealer_uuid: 'd-1', summary: '' });
      const body = JSON.stringify({ dealer_uuid: 'd-1', summary: 's'.repeat(MAX_BODY_BYTES - Buffer.byteLength(base)) });
      assert.equal(Buffer.byteLength(body), MAX_BODY_BYTES);
      const res = await sendEvent(ctx().app, body);
      assert.equal(res.statusCode, 200, res.body);
    });

    test('multi-byte characters count as bytes: 1,000 three-byte characters are over a 2,048-byte limit', async () => {
      await storesNothing(async () => {
        const body = JSON.stringify({ dealer_uuid: 'd-1', summary: '€'.repeat(1000) });
        assert.ok(body.length < MAX_BODY_BYTES && Buffer.byteLength(body) > MAX_BODY_BYTES);
        assertRefused(await sendEvent(ctx().app, body), 413, 'PAYLOAD_TOO_LARGE');
      });
    });
  });

  describe('accepted events (steps 3–4)', () => {
    const cases: { name: string; text: string; contentType: string | null }[] = [
      {
        name: 'odd whitespace, key order, unicode, escapes and number spellings, as text/plain',
        text: '\r\n\t{ "summary" :"Ölwechsel – 🚗 naïve 日本語 \\u00e9\\n" ,\n\n"dealer_uuid":"d-1",  "event_timestamp" : 1.7e12,"x":[ 1.0 , -0 ,1E2 ]}  \n',
        contentType: 'text/plain',
      },
      {
        name: 'no Content-Type at all',
        text: '{"dealer_uuid":"d-1","summary":"sans content type","nested":{"z":1,"a":2}}',
        contentType: null,
      },
      {
        name: 'application/json; charset=utf-8',
        text: '{"chat_code":"CT","dealer_uuid":"d-1"}',
        contentType: 'application/json; charset=utf-8',
      },
      {
        name: 'an unrelated content type (application/x-www-form-urlencoded)',
        text: '{"dealer_uuid":"d-1","summary":"a=b&c=d"}',
        contentType: 'application/x-www-form-urlencoded',
      },
      {
        name: 'a UTF-8 byte order mark',
        text: '\uFEFF{"dealer_uuid":"d-1","summary":"with BOM"}',
        contentType: 'application/json',
      },
    ];
    for (const c of cases) {
      test(`200 and the exact bytes are stored: ${c.name}`, async () => {
        const bytes = Buffer.from(c.text, 'utf8');
        const before = Date.now();
        const res = await sendEvent(ctx().app, bytes, { contentType: c.contentType });
        const afterSend = Date.now();
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json();
        assert.deepEqual(Object.keys(body).sort(), ['errors', 'requestId', 'warnings']);
        assert.deepEqual(body.errors, []);
        assert.deepEqual(body.warnings, []);
        assert.match(body.requestId, UUID_V7);

        const row = await eventRow(ctx().tdb.db.kysely, body.requestId);
        assert.equal(row.raw_body, c.text);
        assert.ok(Buffer.from(row.raw_body, 'utf8').equals(bytes), 'raw_body is byte-for-byte what was sent');
        assert.equal(row.status, 'RECEIVED');
        assert.equal(row.username, 'multi-partner');
        assert.equal(row.event_type, 'vehicle-service-chat');
        assert.equal(row.attempts, 0);
        assert.equal(row.processed_at, null);
        assert.equal(row.locked_by, null);
        assert.equal(row.dealer_uuid, null);
        assert.equal(row.errors, '[]');
        assert.equal(row.warnings, '[]');
        assert.equal(typeof row.received_at, 'number');
        assert.ok(row.received_at >= before && row.received_at <= afterSend, 'received_at is the time of receipt');
        assert.equal(row.run_after, row.received_at, 'runnable at once');
      });
    }

    test('every accepted event gets its own requestId', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 5; i++) ids.add(await acceptEvent(ctx().app, chatBody()));
      assert.equal(ids.size, 5);
    });

    test('a partner with a dealer-level grant may send for its dealer, by our UUID or its mapped id', async () => {
      assert.match(await acceptEvent(ctx().app, chatBody({ dealer_uuid: 'd-1' }), { username: 'partner' }), UUID_V7);
      assert.match(await acceptEvent(ctx().app, chatBody({ dealer_uuid: 'P-100' }), { username: 'partner' }), UUID_V7);
    });
  });

  describe('dealer scope at the gate (integration without transform)', () => {
    test('a dealer-level grant for d-1 and a body naming d-2 → 403 INVALID_SCOPE_DEALER, nothing stored', async () => {
      await storesNothing(async () => {
        assertRefused(await sendEvent(ctx().app, chatBody({ dealer_uuid: 'd-2' }), { username: 'partner' }), 403, 'INVALID_SCOPE_DEALER');
      });
    });

    test('a partner id mapped to a dealer outside the grant (P-200 → d-2) → 403 INVALID_SCOPE_DEALER, nothing stored', async () => {
      await storesNothing(async () => {
        assertRefused(await sendEvent(ctx().app, chatBody({ dealer_uuid: 'P-200' }), { username: 'partner' }), 403, 'INVALID_SCOPE_DEALER');
      });
    });

    test('an unmapped dealer id is accepted (200) and later REJECTED by the pipeline with DEALER_NOT_MAPPED', async () => {
      const requestId = await acceptEvent(ctx().app, chatBody({ dealer_uuid: 'P-999' }), { username: 'partner' });
      assert.equal((await eventRow(ctx().tdb.db.kysely, requestId)).status, 'RECEIVED');
      await makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker).runOnce();
      const status = await statusOf(ctx().app, requestId, 'partner');
      assert.equal(status.status, 'REJECTED');
      assert.deepEqual(
        status.errors.map((e) => e.errorCode),
        ['DEALER_NOT_MAPPED'],
      );
    });

    test('a body without a dealer id is accepted (200) and later REJECTED with DEALER_ID_MISSING', async () => {
      const { dealer_uuid: _dropped, ...body } = chatBody();
      const requestId = await acceptEvent(ctx().app, body, { username: 'partner' });
      await makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker).runOnce();
      const status = await statusOf(ctx().app, requestId, 'partner');
      assert.equal(status.status, 'REJECTED');
      assert.deepEqual(
        status.errors.map((e) => e.errorCode),
        ['DEALER_ID_MISSING'],
      );
    });

    test('with a transform the dealer is not known at the gate: a store the partner may not write for is accepted', async () => {
      // transformer holds the scope for d-1 only; S-2 maps to d-2. The pipeline rejects it (see pipeline tests).
      const res = await sendEvent(ctx().app, transformerBody({ store: { id: 'S-2' } }), { username: 'transformer' });
      assert.equal(res.statusCode, 200, res.body);
    });
  });

  describe('routes', () => {
    test('other paths under the events base answer 404 NOT_FOUND in the events envelope', async () => {
      const auth = { authorization: basic('multi-partner', PASSWORD) };
      for (const [method, url] of [
        ['POST', `${EVENTS_URL.replace('/v1', '/v2')}`],
        ['GET', `${EVENTS_URL}/a/b`],
      ] as const) {
        await storesNothing(async () => {
          const res = await ctx().app.inject({ method, url, headers: auth, payload: method === 'GET' ? undefined : '{}' });
          assertRefused(res, 404, 'NOT_FOUND');
        });
      }
    });

    test('another method on the gate path answers 405 METHOD_NOT_ALLOWED with Allow: POST', async () => {
      const auth = { authorization: basic('multi-partner', PASSWORD) };
      for (const method of ['PUT', 'DELETE', 'PATCH'] as const) {
        await storesNothing(async () => {
          const res = await ctx().app.inject({ method, url: EVENTS_URL, headers: auth, payload: '{}' });
          assertRefused(res, 405, 'METHOD_NOT_ALLOWED');
          assert.equal(res.headers.allow, 'POST');
        });
      }
    });

    test('every answer carries X-Request-Id, distinct from the event requestId', async () => {
      const res = await sendEvent(ctx().app, chatBody());
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      assert.notEqual(res.headers['x-request-id'], res.json().requestId);
    });
  });

  describe('Idempotency-Key', () => {
    test('the same key and the same body → the same requestId, and still one row', async () => {
      const body = JSON.stringify(chatBody({ chat_code: 'IDEM-1' }));
      const first = await sendEvent(ctx().app, body, { idempotencyKey: 'idem-same' });
      assert.equal(first.statusCode, 200, first.body);
      const before = await events();
      const second = await sendEvent(ctx().app, body, { idempotencyKey: 'idem-same' });
      assert.equal(second.statusCode, 200, second.body);
      assert.deepEqual(second.json(), first.json());
      assert.equal(await events(), before);
      const rows = await ctx().tdb.db.kysely.selectFrom('events').select('request_id').where('idempotency_key', '=', 'idem-same').execute();
      assert.deepEqual(
        rows.map((r) => r.request_id),
        [first.json().requestId],
      );
    });

    test('a retry with the same key after processing still answers the original requestId', async () => {
      const body = chatBody({ chat_code: 'IDEM-PROCESSED' });
      const requestId = await acceptEvent(ctx().app, body, { idempotencyKey: 'idem-processed' });
      await makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker).runOnce();
      assert.equal((await statusOf(ctx().app, requestId)).status, 'PROCESSED');
      assert.equal(await acceptEvent(ctx().app, body, { idempotencyKey: 'idem-processed' }), requestId);
      assert.equal((await statusOf(ctx().app, requestId)).status, 'PROCESSED', 'the retry did not reset the event');
    });

    test('the same key with a different body → 422 IDEMPOTENCY_KEY_REUSED, nothing stored', async () => {
      await acceptEvent(ctx().app, chatBody({ chat_code: 'IDEM-2' }), { idempotencyKey: 'idem-reused' });
      await storesNothing(async () => {
        const res = await sendEvent(ctx().app, chatBody({ chat_code: 'IDEM-2-changed' }), { idempotencyKey: 'idem-reused' });
        assertRefused(res, 422, 'IDEMPOTENCY_KEY_REUSED');
      });
    });

    test('the body is compared byte for byte: the same JSON with other whitespace is a different body', async () => {
      await acceptEvent(ctx().app, '{"dealer_uuid":"d-1"}', { idempotencyKey: 'idem-bytes' });
      await storesNothing(async () => {
        assertRefused(
          await sendEvent(ctx().app, '{ "dealer_uuid": "d-1" }', { idempotencyKey: 'idem-bytes' }),
          422,
          'IDEMPOTENCY_KEY_REUSED',
        );
      });
    });

    test('the same key from two different subscribers → two events', async () => {
      const body = chatBody({ chat_code: 'IDEM-3' });
      const a = await acceptEvent(ctx().app, body, { username: 'multi-partner', idempotencyKey: 'idem-shared' });
      const b = await acceptEvent(ctx().app, body, { username: 'partner', idempotencyKey: 'idem-shared' });
      assert.notEqual(a, b);
      const rows = await ctx()
        .tdb.db.kysely.selectFrom('events')
        .select(['request_id', 'username'])
        .where('idempotency_key', '=', 'idem-shared')
        .orderBy('username')
        .execute();
      assert.deepEqual(rows, [
        { request_id: a, username: 'multi-partner' },
        { request_id: b, username: 'partner' },
      ]);
    });

    test('without a key, the same body twice → two events', async () => {
      const body = chatBody({ chat_code: 'NO-KEY' });
      assert.notEqual(await acceptEvent(ctx().app, body), await acceptEvent(ctx().app, body));
    });

    test('10 concurrent identical requests with the same key → exactly one row, every answer carries its requestId', async () => {
      const body = JSON.stringify(chatBody({ chat_code: 'IDEM-CONCURRENT' }));
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => sendEvent(ctx().app, body, { idempotencyKey: 'idem-concurrent' })),
      );
      for (const res of responses) assert.equal(res.statusCode, 200, res.body);
      const ids = new Set(responses.map((res) => res.json().requestId as string));
      assert.equal(ids.size, 1, `one requestId for all, got ${[...ids].join(', ')}`);
      const rows = await ctx()
        .tdb.db.kysely.selectFrom('events')
        .select('request_id')
        .where('idempotency_key', '=', 'idem-concurrent')
        .execute();
      assert.deepEqual(
        rows.map((r) => r.request_id),
        [...ids],
      );
    });

    test('a 255-character key is accepted; a 300-character key → 400 IDEMPOTENCY_KEY_INVALID, nothing stored', async () => {
      assert.match(await acceptEvent(ctx().app, chatBody(), { idempotencyKey: 'k'.repeat(255) }), UUID_V7);
      await storesNothing(async () => {
        assertRefused(await sendEvent(ctx().app, chatBody(), { idempotencyKey: 'k'.repeat(300) }), 400, 'IDEMPOTENCY_KEY_INVALID');
      });
    });

    test('an empty or blank key → 400 IDEMPOTENCY_KEY_INVALID, nothing stored', async () => {
      await storesNothing(async () => {
        assertRefused(await sendEvent(ctx().app, chatBody(), { idempotencyKey: '' }), 400, 'IDEMPOTENCY_KEY_INVALID');
        assertRefused(await sendEvent(ctx().app, chatBody(), { idempotencyKey: '   ' }), 400, 'IDEMPOTENCY_KEY_INVALID');
      });
    });
  });
});

for (const dialect of testDialects()) {
  describe(`events gate: database unavailable [${dialect}]`, () => {
    let tdb: TestDatabase;
    let app: FastifyInstance;
    before(async () => {
      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, eventsFixture);
      app = await buildApp(tdb.config, { db: tdb.db, logger: false });
      // Authenticate once while the database is up (credentials are verified from the snapshot).
      assert.equal((await sendEvent(app, chatBody())).statusCode, 200);
      await tdb.db.close();
    });
    after(async () => {
      await app?.close();
      await tdb?.destroy().catch(() => {});
    });

    test('POST answers 503 SERVICE_UNAVAILABLE with Retry-After and no requestId', async () => {
      const res = await sendEvent(app, chatBody());
      assertRefused(res, 503, 'SERVICE_UNAVAILABLE');
      assert.ok(res.headers['retry-after'], 'Retry-After is set');
    });

    test('with an Idempotency-Key too', async () => {
      assertRefused(await sendEvent(app, chatBody(), { idempotencyKey: 'db-down' }), 503, 'SERVICE_UNAVAILABLE');
    });

    test('the status endpoint answers 503 SERVICE_UNAVAILABLE too', async () => {
      const res = await app.inject({
        method: 'GET',
        url: `${EVENTS_URL}/00000000-0000-4000-8000-000000000000`,
        headers: { authorization: basic('multi-partner', PASSWORD) },
      });
      assertRefused(res, 503, 'SERVICE_UNAVAILABLE');
    });
  });
}
