// The gate's dry run, on both dialects: it answers what the worker would make of an event (the
// same status, dealer, canonical record, errors and warnings — checked against the real gate and
// worker), refuses what the gate refuses with the same status and code, and stores nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import {
  acceptEvent,
  chatBody,
  countRows,
  EVENTS_URL,
  eventsFixture,
  makeWorker,
  PASSWORD,
  type SendOptions,
  sendEvent,
  statusOf,
  transformerBody,
  VIN_UNREGISTERED,
} from '../helpers/events.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const DRY_RUN_URL = `${EVENTS_URL}/dry-run`;
const MAX_BODY_BYTES = 2048;

interface DryRunBody {
  errors: unknown[];
  warnings: unknown[];
  requestId: null;
  dryRun: {
    status: 'PROCESSED' | 'REJECTED';
    dealerUuid: string | null;
    canonical: Record<string, unknown> | null;
    errors: { errorCode: string; errorMessage: string }[];
    warnings: { warningCode: string; warningMessage: string }[];
  };
}

/** POSTs to the dry run exactly as sendEvent does to the gate (same headers, same bytes). */
const sendDryRun = (app: FastifyInstance, body: unknown, options: SendOptions = {}): Promise<LightMyRequestResponse> =>
  sendEvent(app, body, { ...options, url: DRY_RUN_URL });

async function dryRun(app: FastifyInstance, body: unknown, username = 'multi-partner'): Promise<DryRunBody['dryRun']> {
  const res = await sendDryRun(app, body, { username });
  assert.equal(res.statusCode, 200, res.body);
  const answer = res.json() as DryRunBody;
  assert.deepEqual(Object.keys(answer).sort(), ['dryRun', 'errors', 'requestId', 'warnings']);
  assert.deepEqual(answer.errors, []);
  assert.deepEqual(answer.warnings, []);
  assert.equal(answer.requestId, null);
  return answer.dryRun;
}

const codes = (items: readonly { errorCode?: string; warningCode?: string }[]) => items.map((i) => i.errorCode ?? i.warningCode);

describeEachDialect('events dry run', { fixture: eventsFixture, env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES) } }, (ctx) => {
  const rows = async () => [await countRows(ctx().tdb.db.kysely, 'events'), await countRows(ctx().tdb.db.kysely, 'chat_summaries')];

  /** Sends `body` through the real gate and worker; returns the event's status. */
  async function processForReal(body: unknown, username: string) {
    const requestId = await acceptEvent(ctx().app, body, { username });
    await makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker).runOnce(Date.now() + 1000);
    return statusOf(ctx().app, requestId, username);
  }

  /** The dry run of `body` must say exactly what the gate and worker then do with it. */
  async function assertSameAsWorker(body: unknown, username: string): Promise<DryRunBody['dryRun']> {
    const predicted = await dryRun(ctx().app, body, username);
    const actual = await processForReal(body, username);
    assert.equal(predicted.status, actual.status);
    assert.deepEqual(predicted.canonical, actual.event);
    assert.deepEqual(predicted.errors, actual.errors);
    assert.deepEqual(predicted.warnings, actual.warnings);
    return predicted;
  }

  describe('outcomes, as the worker gives them', () => {
    test('a valid canonical body → PROCESSED with the canonical record and our dealer', async () => {
      const result = await assertSameAsWorker(chatBody(), 'multi-partner');
      assert.equal(result.status, 'PROCESSED');
      assert.equal(result.dealerUuid, 'd-1');
      assert.deepEqual(result.errors, []);
      assert.deepEqual(result.warnings, []);
      assert.equal(result.canonical?.dealer_uuid, 'd-1');
      assert.equal(result.canonical?.chat_code, 'CHAT-1');
      assert.equal(result.canonical?.event_timestamp, 1_700_000_000_000);
    });

    test('a body the partner JSON Schema rejects → REJECTED with SCHEMA_VIOLATION errors', async () => {
      const { chat: _chat, ...body } = transformerBody();
      const result = await assertSameAsWorker(body, 'transformer');
      assert.equal(result.status, 'REJECTED');
      assert.equal(result.canonical, null);
      assert.ok(codes(result.errors).includes('SCHEMA_VIOLATION'), JSON.stringify(result.errors));
      assert.ok(result.errors.some((e) => e.errorMessage.includes("'chat'")));
    });

    test('an unknown VIN → PROCESSED with the UNKNOWN_VIN warning', async () => {
      const { vehicle_uuid: _v, ...body } = chatBody({ vin: VIN_UNREGISTERED, chat_code: 'CHAT-VIN' });
      const result = await assertSameAsWorker(body, 'multi-partner');
      assert.equal(result.status, 'PROCESSED');
      assert.deepEqual(codes(result.warnings), ['UNKNOWN_VIN']);
    });

    test('a transform partner: its own shape mapped to the canonical record and our dealer', async () => {
      const result = await assertSameAsWorker(
        transformerBody({ chat: { code: 'TX-DRY', summary: 'Oil', at: 1_700_000_000_000 } }),
        'transformer',
      );
      assert.equal(result.status, 'PROCESSED');
      assert.equal(result.dealerUuid, 'd-1');
      assert.equal(result.canonical?.dealer_uuid, 'd-1');
      assert.equal(result.canonical?.chat_code, 'TX-DRY');
      assert.equal(result.canonical?.vehicle_uuid, 'v-1');
    });

    test('a transform partner naming a store outside its grant → REJECTED INVALID_SCOPE_DEALER (the gate cannot tell)', async () => {
      const result = await assertSameAsWorker(transformerBody({ store: { id: 'S-2' } }), 'transformer');
      assert.equal(result.status, 'REJECTED');
      assert.equal(result.dealerUuid, 'd-2');
      assert.deepEqual(codes(result.errors), ['INVALID_SCOPE_DEALER']);
    });

    test('an unmapped dealer id → REJECTED DEALER_NOT_MAPPED, as the worker rejects it', async () => {
      const result = await assertSameAsWorker(chatBody({ dealer_uuid: 'P-999' }), 'partner');
      assert.equal(result.status, 'REJECTED');
      assert.equal(result.dealerUuid, null);
      assert.deepEqual(codes(result.errors), ['DEALER_NOT_MAPPED']);
    });

    test('no event_timestamp → the receipt time (now), as the gate would record it', async () => {
      const { event_timestamp: _t, ...body } = chatBody();
      const before = Date.now();
      const result = await dryRun(ctx().app, body);
      assert.equal(result.status, 'PROCESSED');
      const timestamp = result.canonical?.event_timestamp as number;
      assert.ok(timestamp >= before && timestamp <= Date.now(), String(timestamp));
    });
  });

  describe('refusals, as the gate gives them', () => {
    /** The events envelope of a refusal: one error, nothing else. */
    function refusal(res: LightMyRequestResponse) {
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['errors', 'requestId', 'warnings'], res.body);
      assert.equal(body.requestId, null);
      assert.equal(body.errors.length, 1);
      return { status: res.statusCode, code: body.errors[0].errorCode as string };
    }

    test('no credentials → 401 NULL_CREDENTIALS with WWW-Authenticate; a wrong password → 401 WRONG_CREDENTIAL', async () => {
      const none = await sendDryRun(ctx().app, chatBody(), { noAuth: true });
      assert.deepEqual(refusal(none), { status: 401, code: 'NULL_CREDENTIALS' });
      assert.match(String(none.headers['www-authenticate']), /^Basic realm="dealer-gateway"/);
      const wrong = await sendDryRun(ctx().app, chatBody(), { password: 'not-the-password' });
      assert.deepEqual(refusal(wrong), { status: 401, code: 'WRONG_CREDENTIAL' });
    });

    for (const username of ['no-integration', 'inactive-partner', 'no-scope']) {
      test(`${username}: not an event source → 403 INVALID_EVENT_SOURCE, before the body is read`, async () => {
        assert.deepEqual(refusal(await sendDryRun(ctx().app, chatBody(), { username })), { status: 403, code: 'INVALID_EVENT_SOURCE' });
        assert.deepEqual(refusal(await sendDryRun(ctx().app, '{nope', { username })), { status: 403, code: 'INVALID_EVENT_SOURCE' });
      });
    }

    const refused: { what: string; body: string | Buffer; options?: SendOptions }[] = [
      { what: 'invalid JSON', body: '{"dealer_uuid": "d-1",' },
      { what: 'an empty body', body: '' },
      { what: 'an empty body without Content-Type', body: '', options: { contentType: null } },
      { what: 'a whitespace-only body', body: ' \n\t ' },
      { what: 'invalid UTF-8 bytes', body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
      { what: 'two byte-order marks', body: '\uFEFF\uFEFF{"dealer_uuid":"d-1"}' },
      { what: 'a JSON array', body: '[{"dealer_uuid":"d-1"}]' },
      { what: 'JSON null', body: 'null' },
      { what: 'a lone surrogate', body: '{"dealer_uuid":"d-1","summary":"\\ud800"}' },
      { what: 'nesting deeper than 64 levels', body: `{"dealer_uuid":"d-1","deep":${'['.repeat(70)}${']'.repeat(70)}}` },
      { what: 'a body over MAX_BODY_BYTES', body: JSON.stringify(chatBody({ summary: 'x'.repeat(MAX_BODY_BYTES) })) },
      {
        what: 'a body over MAX_BODY_BYTES as text/plain',
        body: JSON.stringify(chatBody({ summary: 'x'.repeat(MAX_BODY_BYTES) })),
        options: { contentType: 'text/plain' },
      },
      {
        what: 'a dealer outside the grant (no transform)',
        body: JSON.stringify(chatBody({ dealer_uuid: 'd-2' })),
        options: { username: 'partner' },
      },
      {
        what: 'a mapped dealer outside the grant (P-200 → d-2)',
        body: JSON.stringify(chatBody({ dealer_uuid: 'P-200' })),
        options: { username: 'partner' },
      },
    ];
    for (const { what, body, options } of refused) {
      test(`${what}: the same status and code as the gate`, async () => {
        const before = await rows();
        const gate = refusal(await sendEvent(ctx().app, body, options));
        const dry = refusal(await sendDryRun(ctx().app, body, options));
        assert.ok(gate.status >= 400 && gate.status < 500, `the gate refuses ${what}: ${gate.status}`);
        assert.deepEqual(dry, gate);
        assert.deepEqual(await rows(), before);
      });
    }
  });

  describe('stores nothing', () => {
    test('dry runs of every outcome leave the events and chat summaries tables as they were', async () => {
      const before = await rows();
      await dryRun(ctx().app, chatBody());
      await dryRun(ctx().app, chatBody({ dealer_uuid: 'P-999' }), 'partner');
      await dryRun(ctx().app, transformerBody(), 'transformer');
      assert.deepEqual(await rows(), before);
    });

    test('Idempotency-Key is ignored: the same key twice answers twice, and nothing is stored', async () => {
      const before = await rows();
      for (const body of [chatBody(), chatBody({ summary: 'another body' })]) {
        const res = await sendDryRun(ctx().app, body, { idempotencyKey: 'dry-1' });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().dryRun.status, 'PROCESSED');
      }
      assert.deepEqual(await rows(), before);
    });
  });

  describe('routes', () => {
    test('GET …/dry-run is the status lookup of an id that does not exist: 404 EVENT_NOT_FOUND', async () => {
      const res = await ctx().app.inject({ method: 'GET', url: DRY_RUN_URL, headers: { authorization: basic('multi-partner', PASSWORD) } });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().errors[0].errorCode, 'EVENT_NOT_FOUND');
    });

    test('another method on …/dry-run → 405 with Allow: GET, HEAD, POST', async () => {
      const res = await ctx().app.inject({ method: 'PUT', url: DRY_RUN_URL, headers: { authorization: basic('multi-partner', PASSWORD) } });
      assert.equal(res.statusCode, 405, res.body);
      assert.equal(res.headers.allow, 'GET, HEAD, POST');
    });

    test('the OpenAPI document describes the dry run under the events tag', async () => {
      const doc = (await ctx().app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const op = doc.paths[DRY_RUN_URL]?.post;
      assert.ok(op, 'POST …/dry-run is documented');
      assert.deepEqual(op.tags, ['events']);
      assert.deepEqual(op.security, [{ basicAuth: [] }]);
      assert.ok(op.summary);
      const ok = op.responses['200'].content['application/json'].schema;
      assert.deepEqual(Object.keys(ok.properties).sort(), ['dryRun', 'errors', 'requestId', 'warnings']);
      assert.deepEqual(Object.keys(ok.properties.dryRun.properties).sort(), ['canonical', 'dealerUuid', 'errors', 'status', 'warnings']);
      assert.ok(op.responses['4XX'] ?? op.responses['4xx'], 'client errors are documented');
    });
  });
});
