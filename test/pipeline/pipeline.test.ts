// The event pipeline, step by step, through the real gate, worker and status endpoint: partner
// schema, JSONata transform, dealer resolution and scope, event timestamp, canonical validation,
// warnings that do not block, vehicle linking, and an integration switched off after receipt.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  acceptEvent,
  chatBody,
  EVENT_SCOPE,
  EVENT_TYPE,
  eventRow,
  eventsFixture,
  integrations,
  makeWorker,
  PASSWORD,
  type StatusBody,
  statusOf,
  summaryRow,
  TRANSFORMER_SCHEMA,
  transformerBody,
  VIN_1,
  VIN_2,
  VIN_3,
  VIN_BAD_CHECK_REGISTERED,
  VIN_UNREGISTERED,
  withWrongCheckDigit,
} from '../helpers/events.js';
import { describeEachDialect } from '../helpers/suite.js';

/** Integrations with odd transforms, provisioned on top of the events fixture. */
const transformCases = {
  'tx-scalar': 'chat.summary',
  'tx-array': '[store.id, chat.code]',
  'tx-nothing': 'nothing.here',
  'tx-throws': '{ "dealer_uuid": store.id, "chat_code": $string($number(chat.code)) }',
  'tx-error': '$error("this partner payload is not supported")',
} as const;

const extraProvisioning = {
  subscribers: [
    ...Object.keys(transformCases).map((username) => ({ username, password: PASSWORD, grants: [{ scope: EVENT_SCOPE, dealers: '*' }] })),
    { username: 'numeric', password: PASSWORD, grants: [{ scope: EVENT_SCOPE, dealers: '*' }] },
  ],
  integrations: [
    ...Object.entries(transformCases).map(([subscriber, transform]) => ({ subscriber, eventType: EVENT_TYPE, transform })),
    { subscriber: 'numeric', eventType: EVENT_TYPE, dealerMap: { '1042': 'd-2' } },
  ],
};

const codes = (items: readonly { errorCode?: string; warningCode?: string }[]) => items.map((i) => i.errorCode ?? i.warningCode);

describeEachDialect('event pipeline', { fixture: eventsFixture }, (ctx) => {
  before(async () => {
    await ctx().provision(extraProvisioning);
  });

  const later = () => Date.now() + 1000;

  /** Sends `body` as `username`, runs one worker batch, and returns what became of the event. */
  async function run(body: unknown, username = 'multi-partner') {
    const requestId = await acceptEvent(ctx().app, body, { username });
    const worker = makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker);
    await worker.runOnce(later());
    const status = await statusOf(ctx().app, requestId, username);
    const row = await eventRow(ctx().tdb.db.kysely, requestId);
    const summary = await summaryRow(ctx().tdb.db.kysely, requestId);
    return { requestId, status, row, summary };
  }

  function assertRejected(status: StatusBody, errorCodes: string[]): void {
    assert.equal(status.status, 'REJECTED', JSON.stringify(status));
    assert.deepEqual(codes(status.errors).sort(), [...errorCodes].sort(), JSON.stringify(status.errors));
    assert.equal(status.event, null);
  }

  function assertProcessed(status: StatusBody): Record<string, unknown> {
    assert.equal(status.status, 'PROCESSED', JSON.stringify(status));
    assert.deepEqual(status.errors, []);
    assert.ok(status.event);
    return status.event;
  }

  describe('transform (JSONata)', () => {
    test("the transform's output becomes the canonical record", async () => {
      const { status, row, summary } = await run(transformerBody(), 'transformer');
      const event = assertProcessed(status);
      assert.deepEqual(status.warnings, []);
      assert.deepEqual(event, {
        dealer_uuid: 'd-1',
        customer_name: 'Jane Doe',
        vin: VIN_1,
        vehicle_uuid: 'v-1',
        chat_code: 'TX-1',
        summary: 'Oil change due',
        escalation_flag: true,
        event_timestamp: 1_700_000_000_000,
        line_items: [{ description: 'Oil change', payable: true }],
        transcript: [
          { customer: 'Is my oil change due?', assistant: null },
          { customer: null, assistant: 'Yes, at 5,000 miles.' },
        ],
        media: [{ type: 'image', url: 'https://cdn.example.com/dash.png' }],
      });
      assert.equal(row.dealer_uuid, 'd-1');
      assert.ok(summary);
      assert.deepEqual(JSON.parse(summary.record), event);
      assert.equal(summary.dealer_uuid, 'd-1');
      assert.equal(summary.vehicle_uuid, 'v-1');
      assert.equal(summary.customer_uuid, 'c-1');
      assert.equal(summary.vin, VIN_1);
      assert.equal(summary.chat_code, 'TX-1');
      assert.equal(summary.event_timestamp, 1_700_000_000_000);
      assert.equal(summary.escalation_flag, 1);
    });

    test('a transform that produces a string → REJECTED TRANSFORM_FAILED', async () => {
      const { status, summary } = await run(transformerBody(), 'tx-scalar');
      assertRejected(status, ['TRANSFORM_FAILED']);
      assert.match(status.errors[0]?.errorMessage ?? '', /did not produce a JSON object/);
      assert.equal(summary, undefined);
    });

    test('a transform that produces an array → REJECTED TRANSFORM_FAILED', async () => {
      assertRejected((await run(transformerBody(), 'tx-array')).status, ['TRANSFORM_FAILED']);
    });

    test('a transform that produces nothing → REJECTED TRANSFORM_FAILED', async () => {
      assertRejected((await run(transformerBody(), 'tx-nothing')).status, ['TRANSFORM_FAILED']);
    });

    test('a transform that throws at run time ($number of a non-number) → REJECTED TRANSFORM_FAILED', async () => {
      const { status } = await run(transformerBody({ chat: { code: 'not-a-number' } }), 'tx-throws');
      assertRejected(status, ['TRANSFORM_FAILED']);
      assert.match(status.errors[0]?.errorMessage ?? '', /transformation failed/);
    });

    test('the same transform succeeds on input it can handle', async () => {
      const body = transformerBody({ store: { id: 'd-1' }, chat: { code: '0042' } });
      const event = assertProcessed((await run(body, 'tx-throws')).status);
      assert.deepEqual(event.chat_code, '42');
      assert.equal(event.dealer_uuid, 'd-1');
    });

    test('a transform calling $error → REJECTED TRANSFORM_FAILED with its message', async () => {
      const { status } = await run(transformerBody(), 'tx-error');
      assertRejected(status, ['TRANSFORM_FAILED']);
      assert.match(status.errors[0]?.errorMessage ?? '', /this partner payload is not supported/);
    });
  });

  describe('partner JSON Schema', () => {
    test('violations → REJECTED with one SCHEMA_VIOLATION per problem, naming each field', async () => {
      const body = {
        chat: { code: 42, escalate: 'yes', at: 1_700_000_000_000 },
        items: [{ customerPays: true }],
      };
      const { status } = await run(body, 'transformer');
      assert.equal(status.status, 'REJECTED');
      const violations = status.errors.filter((e) => e.errorCode === 'SCHEMA_VIOLATION').map((e) => e.errorMessage);
      assert.deepEqual(violations.sort(), [
        "Field 'chat.code' must be of type string",
        "Field 'chat.escalate' must be of type boolean",
        "Field 'items[0].text' is required",
        "Field 'store' is required",
      ]);
      // Processing goes on after the schema, so the partner hears about everything at once.
      assert.ok(codes(status.errors).includes('DEALER_ID_MISSING'));
      assert.ok(codes(status.errors).includes('INVALID_FIELD'));
    });

    test('a schema violation alone is enough to reject', async () => {
      const { status, summary } = await run(transformerBody({ items: [{ customerPays: true }] }), 'transformer');
      assertRejected(status, ['SCHEMA_VIOLATION']);
      assert.equal(status.errors[0]?.errorMessage, "Field 'items[0].text' is required");
      assert.equal(summary, undefined);
    });

    test('the schema the integration holds is the one applied (sanity check of the fixture)', () => {
      assert.deepEqual(integrations.transformer.schema, TRANSFORMER_SCHEMA);
    });
  });

  describe('dealer resolution and scope', () => {
    test('dealer field missing → DEALER_ID_MISSING', async () => {
      const { dealer_uuid: _gone, ...body } = chatBody();
      const { status, row } = await run(body);
      assertRejected(status, ['DEALER_ID_MISSING']);
      assert.match(status.errors[0]?.errorMessage ?? '', /'dealer_uuid'/);
      assert.equal(row.dealer_uuid, null);
    });

    for (const [what, value] of [
      ['null', null],
      ['empty', ''],
      ['a boolean', true],
      ['an object', { id: 'd-1' }],
    ] as const) {
      test(`dealer field ${what} → DEALER_ID_MISSING`, async () => {
        assertRejected((await run(chatBody({ dealer_uuid: value }))).status, ['DEALER_ID_MISSING']);
      });
    }

    test('a known dealer UUID is used as is', async () => {
      const { status, row, summary } = await run(chatBody({ dealer_uuid: 'd-2', vin: null, vehicle_uuid: null }));
      assert.equal(assertProcessed(status).dealer_uuid, 'd-2');
      assert.equal(row.dealer_uuid, 'd-2');
      assert.equal(summary?.dealer_uuid, 'd-2');
    });

    test('a mapped partner id is translated to our dealer UUID', async () => {
      const { status, row, summary } = await run(chatBody({ dealer_uuid: 'EXT-2', vin: VIN_2, vehicle_uuid: 'v-2' }));
      const event = assertProcessed(status);
      assert.equal(event.dealer_uuid, 'd-2');
      assert.deepEqual(status.warnings, []);
      assert.equal(row.dealer_uuid, 'd-2');
      assert.equal(summary?.dealer_uuid, 'd-2');
      assert.equal(summary?.vehicle_uuid, 'v-2');
      assert.equal(summary?.customer_uuid, 'c-2');
    });

    test('a numeric partner id is mapped through its string form', async () => {
      const { status } = await run(chatBody({ dealer_uuid: 1042, vin: null, vehicle_uuid: null }), 'numeric');
      assert.equal(assertProcessed(status).dealer_uuid, 'd-2');
    });

    test('an unmapped id → DEALER_NOT_MAPPED naming it', async () => {
      const { status, row } = await run(chatBody({ dealer_uuid: 'EXT-404' }));
      assertRejected(status, ['DEALER_NOT_MAPPED']);
      assert.match(status.errors[0]?.errorMessage ?? '', /'EXT-404'/);
      assert.equal(row.dealer_uuid, null);
    });

    test('dealer ids are case-sensitive: ext-1 is not EXT-1', async () => {
      assertRejected((await run(chatBody({ dealer_uuid: 'ext-1' }))).status, ['DEALER_NOT_MAPPED']);
    });

    test("a dotted dealerIdField ('store.id', no transform) resolves, and is not reported as an unknown field", async () => {
      const { dealer_uuid: _gone, ...rest } = chatBody();
      const { status, summary } = await run({ ...rest, store: { id: 'S-1', name: 'Main street' } }, 'dotted');
      const event = assertProcessed(status);
      assert.equal(event.dealer_uuid, 'd-1');
      assert.equal(event.store, undefined);
      assert.deepEqual(status.warnings, []);
      assert.equal(summary?.dealer_uuid, 'd-1');
    });

    test("a dotted dealerIdField holding one of our UUIDs uses it; the body's own dealer_uuid is overridden", async () => {
      const { status } = await run(chatBody({ dealer_uuid: 'd-1', vin: null, vehicle_uuid: null, store: { id: 'd-2' } }), 'dotted');
      assert.equal(assertProcessed(status).dealer_uuid, 'd-2');
    });

    test("a dotted dealerIdField that is missing → DEALER_ID_MISSING naming 'store.id'", async () => {
      for (const body of [chatBody({ dealer_uuid: 'd-1' }), chatBody({ store: 'S-1' }), chatBody({ store: { name: 'x' } })]) {
        const { status } = await run(body, 'dotted');
        assertRejected(status, ['DEALER_ID_MISSING']);
        assert.match(status.errors[0]?.errorMessage ?? '', /'store\.id'/);
      }
    });

    test('a resolved dealer outside the grants (only known after the transform) → INVALID_SCOPE_DEALER', async () => {
      for (const store of ['S-2', 'd-2', 'd-3']) {
        const { status, row, summary } = await run(transformerBody({ store: { id: store } }), 'transformer');
        assertRejected(status, ['INVALID_SCOPE_DEALER']);
        assert.equal(row.dealer_uuid, store === 'd-3' ? 'd-3' : 'd-2', 'the resolved dealer is recorded');
        assert.equal(summary, undefined);
      }
    });

    test('the transformer may send for its own dealer, by our UUID too', async () => {
      assert.equal(assertProcessed((await run(transformerBody({ store: { id: 'd-1' } }), 'transformer')).status).dealer_uuid, 'd-1');
    });
  });

  describe('event_timestamp', () => {
    test('absent → the receipt time, in epoch milliseconds', async () => {
      const { event_timestamp: _gone, ...body } = chatBody();
      const { status, row, summary } = await run(body);
      const event = assertProcessed(status);
      assert.equal(event.event_timestamp, row.received_at);
      assert.equal(summary?.event_timestamp, row.received_at);
    });

    test('null → the receipt time', async () => {
      const { status, row } = await run(chatBody({ event_timestamp: null }));
      assert.equal(assertProcessed(status).event_timestamp, row.received_at);
    });

    test('valid milliseconds are kept (including 2000-01-01T00:00:00Z exactly)', async () => {
      for (const ms of [1_700_000_000_000, 946_684_800_000]) {
        const { status, summary } = await run(chatBody({ event_timestamp: ms }));
        assert.equal(assertProcessed(status).event_timestamp, ms);
        assert.equal(summary?.event_timestamp, ms);
      }
    });

    test('up to a day ahead of receipt is believed', async () => {
      const ms = Date.now() + 60 * 60 * 1000;
      assert.equal(assertProcessed((await run(chatBody({ event_timestamp: ms }))).status).event_timestamp, ms);
    });

    test('a millisecond timestamp from 1998 is reported as before the year 2000, not as seconds', async () => {
      const { status } = await run(chatBody({ event_timestamp: 900_000_000_000 }));
      assertRejected(status, ['INVALID_EVENT_TIMESTAMP']);
      assert.match(status.errors[0]?.errorMessage ?? '', /before the year 2000/);
    });

    const invalid: [string, unknown, RegExp][] = [
      ['seconds instead of milliseconds (1700000000)', 1_700_000_000, /seconds/],
      ['a string', '1700000000000', /integer number of milliseconds/],
      ['an ISO date string', '2023-11-14T22:13:20Z', /integer number of milliseconds/],
      ['a float', 1_700_000_000_000.5, /integer number of milliseconds/],
      ['one millisecond before the year 2000', 946_684_799_999, /event_timestamp/],
      ['in 1998, in milliseconds', 900_000_000_000, /event_timestamp/],
      ['zero', 0, /before the year 2000/],
      ['negative', -1, /before the year 2000/],
      ['far in the future', Date.now() + 3 * 24 * 60 * 60 * 1000, /more than a day/],
      ['beyond safe integers', 2 ** 53, /integer number of milliseconds/],
      ['a boolean', true, /integer number of milliseconds/],
    ];
    for (const [what, value, message] of invalid) {
      test(`${what} → INVALID_EVENT_TIMESTAMP`, async () => {
        const { status, summary } = await run(chatBody({ event_timestamp: value }));
        assertRejected(status, ['INVALID_EVENT_TIMESTAMP']);
        assert.match(status.errors[0]?.errorMessage ?? '', message);
        assert.equal(summary, undefined);
      });
    }
  });

  describe('canonical record', () => {
    const invalid: [string, Record<string, unknown>, string][] = [
      ['escalation_flag "yes"', { escalation_flag: 'yes' }, 'escalation_flag'],
      ['line_items[0].payable "true"', { line_items: [{ description: 'Pads', payable: 'true' }] }, 'line_items[0].payable'],
      ['media[0].type "audio"', { media: [{ type: 'audio', url: 'https://cdn.example.com/a.mp3' }] }, 'media[0].type'],
      ['media url ftp://', { media: [{ type: 'image', url: 'ftp://cdn.example.com/a.jpg' }] }, 'media[0].url'],
      ['media url javascript:', { media: [{ type: 'image', url: 'javascript:alert(1)' }] }, 'media[0].url'],
      ['media url not a URL', { media: [{ type: 'video', url: 'not a url' }] }, 'media[0].url'],
      ['media item without url', { media: [{ type: 'image' }] }, 'media[0].url'],
      ['line_items not an array', { line_items: { description: 'Pads' } }, 'line_items'],
      ['summary a number', { summary: 42 }, 'summary'],
      ['transcript[1].customer a number', { transcript: [{ customer: 'hi' }, { customer: 7 }] }, 'transcript[1].customer'],
      ['customer_name over 255 characters', { customer_name: 'n'.repeat(256) }, 'customer_name'],
    ];
    for (const [what, overrides, field] of invalid) {
      test(`${what} → INVALID_FIELD naming '${field}'`, async () => {
        const { status, summary } = await run(chatBody(overrides));
        assert.equal(status.status, 'REJECTED');
        assert.ok(status.errors.length >= 1);
        for (const e of status.errors) assert.equal(e.errorCode, 'INVALID_FIELD', JSON.stringify(status.errors));
        assert.ok(
          status.errors.some((e) => e.errorMessage.includes(`'${field}'`)),
          `an error names '${field}': ${JSON.stringify(status.errors)}`,
        );
        assert.equal(summary, undefined);
      });
    }

    test('several invalid fields → one INVALID_FIELD each', async () => {
      const { status } = await run(
        chatBody({ escalation_flag: 'yes', line_items: [{ payable: 'true' }], media: [{ type: 'audio', url: 'https://x.example/a' }] }),
      );
      assert.equal(status.status, 'REJECTED');
      const messages = status.errors.map((e) => e.errorMessage).join('\n');
      for (const field of ['escalation_flag', 'line_items[0].payable', 'media[0].type']) assert.ok(messages.includes(`'${field}'`), field);
      assert.ok(status.errors.every((e) => e.errorCode === 'INVALID_FIELD'));
    });

    test('optional fields may be null or absent', async () => {
      const body = {
        dealer_uuid: 'd-1',
        customer_name: null,
        vin: null,
        chat_code: null,
        vehicle_uuid: null,
        summary: null,
        escalation_flag: null,
        line_items: null,
        transcript: null,
        media: null,
      };
      const { status, summary } = await run(body);
      const event = assertProcessed(status);
      assert.equal(event.vin, null);
      assert.equal(summary?.escalation_flag, null);
      assert.equal(summary?.vehicle_uuid, null);
      const minimal = assertProcessed((await run({ dealer_uuid: 'd-1' })).status);
      assert.deepEqual(Object.keys(minimal).sort(), ['dealer_uuid', 'event_timestamp']);
    });
  });

  describe('warnings do not block', () => {
    test('unknown top-level and nested fields → UNKNOWN_FIELD naming each; PROCESSED without them', async () => {
      const { status } = await run(
        chatBody({
          mood: 'happy',
          line_items: [{ description: 'Pads', payable: true, price: 120 }],
          transcript: [{ customer: 'hi', bot: 'x' }],
        }),
      );
      const event = assertProcessed(status);
      assert.deepEqual(codes(status.warnings), ['UNKNOWN_FIELD', 'UNKNOWN_FIELD', 'UNKNOWN_FIELD']);
      const messages = status.warnings.map((w) => w.warningMessage).join('\n');
      for (const path of ['mood', 'line_items[0].price', 'transcript[0].bot']) assert.ok(messages.includes(`'${path}'`), path);
      assert.equal(event.mood, undefined);
      assert.deepEqual(event.line_items, [{ description: 'Pads', payable: true }]);
      assert.deepEqual(event.transcript, [{ customer: 'hi' }]);
    });

    test('more than 20 unknown fields → 20 warnings and one that counts the rest', async () => {
      const extra = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`extra_${i}`, i]));
      const { status } = await run(chatBody(extra));
      assertProcessed(status);
      assert.equal(status.warnings.length, 21);
      assert.ok(status.warnings.every((w) => w.warningCode === 'UNKNOWN_FIELD'));
      assert.match(status.warnings[20]?.warningMessage ?? '', /^5 more unknown fields were ignored/);
    });

    test('a VIN that is not one of the dealer’s vehicles → UNKNOWN_VIN; nothing linked', async () => {
      // VIN_2 is a vehicle of d-2; the event is for d-1.
      const { status, summary } = await run(chatBody({ vin: VIN_2, vehicle_uuid: null }));
      assertProcessed(status);
      assert.deepEqual(codes(status.warnings), ['UNKNOWN_VIN']);
      assert.equal(summary?.vehicle_uuid, null);
      assert.equal(summary?.customer_uuid, null);
      assert.equal(summary?.vin, VIN_2);
    });

    test('an unknown vehicle_uuid (or one of another dealer) → UNKNOWN_VEHICLE; nothing linked', async () => {
      for (const vehicle of ['v-404', 'v-2']) {
        const { status, summary } = await run(chatBody({ vin: null, vehicle_uuid: vehicle }));
        assertProcessed(status);
        assert.deepEqual(codes(status.warnings), ['UNKNOWN_VEHICLE'], vehicle);
        assert.equal(summary?.vehicle_uuid, null);
        assert.equal(summary?.customer_uuid, null);
      }
    });

    test('a bad check digit → INVALID_VIN_CHECK_DIGIT (and UNKNOWN_VIN when no vehicle has it)', async () => {
      const { status } = await run(chatBody({ vin: withWrongCheckDigit(VIN_UNREGISTERED), vehicle_uuid: null }));
      assertProcessed(status);
      assert.deepEqual(codes(status.warnings).sort(), ['INVALID_VIN_CHECK_DIGIT', 'UNKNOWN_VIN']);
    });

    test('a registered vehicle whose VIN fails the check digit still links, with the warning', async () => {
      const { status, summary } = await run(chatBody({ vin: VIN_BAD_CHECK_REGISTERED, vehicle_uuid: null }));
      assertProcessed(status);
      assert.deepEqual(codes(status.warnings), ['INVALID_VIN_CHECK_DIGIT']);
      assert.equal(summary?.vehicle_uuid, 'v-9');
      assert.equal(summary?.customer_uuid, 'c-1');
    });

    test('a VIN that is not 17 valid characters → INVALID_VIN', async () => {
      for (const vin of ['1HGCM82633A00435', '1HGCM82633A0O4352']) {
        const { status } = await run(chatBody({ vin, vehicle_uuid: null }));
        assertProcessed(status);
        assert.ok(codes(status.warnings).includes('INVALID_VIN'), `${vin}: ${JSON.stringify(status.warnings)}`);
      }
    });

    test('vehicle_uuid and VIN naming different vehicles → VEHICLE_VIN_MISMATCH, linked by vehicle_uuid', async () => {
      const { status, summary } = await run(chatBody({ vin: VIN_1, vehicle_uuid: 'v-3' }));
      assertProcessed(status);
      assert.deepEqual(codes(status.warnings), ['VEHICLE_VIN_MISMATCH']);
      assert.equal(summary?.vehicle_uuid, 'v-3');
      assert.equal(summary?.customer_uuid, 'c-3');
    });

    test('all warnings at once still PROCESSED', async () => {
      const { status, summary } = await run(
        chatBody({ vin: withWrongCheckDigit(VIN_UNREGISTERED), vehicle_uuid: 'v-404', mood: 'x', dealer_uuid: 'EXT-1' }),
      );
      assertProcessed(status);
      assert.deepEqual(codes(status.warnings).sort(), ['INVALID_VIN_CHECK_DIGIT', 'UNKNOWN_FIELD', 'UNKNOWN_VEHICLE', 'UNKNOWN_VIN']);
      assert.ok(summary);
    });
  });

  describe('vehicle linking', () => {
    test('a matching VIN links chat_summaries.vehicle_uuid and customer_uuid', async () => {
      const { status, summary } = await run(chatBody({ vin: VIN_3, vehicle_uuid: null }));
      assertProcessed(status);
      assert.deepEqual(status.warnings, []);
      assert.equal(summary?.vehicle_uuid, 'v-3');
      assert.equal(summary?.customer_uuid, 'c-3');
      assert.equal(summary?.vin, VIN_3);
    });

    test('a lower-case VIN links too', async () => {
      const { status, summary } = await run(chatBody({ vin: VIN_1.toLowerCase(), vehicle_uuid: null }));
      assertProcessed(status);
      assert.deepEqual(status.warnings, []);
      assert.equal(summary?.vehicle_uuid, 'v-1');
      assert.equal(summary?.customer_uuid, 'c-1');
    });

    test('a matching vehicle_uuid links without a VIN', async () => {
      const { status, summary } = await run(chatBody({ vin: null, vehicle_uuid: 'v-3' }));
      assertProcessed(status);
      assert.deepEqual(status.warnings, []);
      assert.equal(summary?.vehicle_uuid, 'v-3');
      assert.equal(summary?.customer_uuid, 'c-3');
    });

    test('neither VIN nor vehicle_uuid → PROCESSED, unlinked, no warnings', async () => {
      const { status, summary } = await run(chatBody({ vin: null, vehicle_uuid: null }));
      assertProcessed(status);
      assert.deepEqual(status.warnings, []);
      assert.equal(summary?.vehicle_uuid, null);
      assert.equal(summary?.customer_uuid, null);
    });
  });

  describe('string contents', () => {
    for (const [field, overrides] of [
      ['chat_code', { chat_code: 'A\u0000B', vin: null, vehicle_uuid: null }],
      ['vin', { vin: `${VIN_1}\u0000`, vehicle_uuid: null }],
      ['vehicle_uuid', { vin: null, vehicle_uuid: 'v-1\u0000' }],
    ] as const) {
      test(`a NUL character (\\u0000) in ${field} is REJECTED as INVALID_FIELD in one pass, on both dialects`, async () => {
        const { status, row } = await run(chatBody(overrides));
        assert.equal(row.attempts, 1);
        assert.equal(status.status, 'REJECTED', JSON.stringify(status));
        assert.ok(
          status.errors.some(
            (e: { errorCode: string; errorMessage: string }) => e.errorCode === 'INVALID_FIELD' && e.errorMessage.includes(`'${field}'`),
          ),
          JSON.stringify(status.errors),
        );
      });
    }

    test('a NUL character in summary and customer_name is kept in the record', async () => {
      const { status } = await run(chatBody({ summary: 'nul\u0000inside', customer_name: 'J\u0000D', vin: null, vehicle_uuid: null }));
      const event = assertProcessed(status);
      assert.equal(event.summary, 'nul\u0000inside');
      assert.equal(event.customer_name, 'J\u0000D');
    });

    test('non-ASCII text survives the pipeline unchanged', async () => {
      const summary = 'Ölwechsel – 🚗 naïve 日本語 \u2028 end';
      const { status, summary: row } = await run(chatBody({ summary, customer_name: 'Zoë Ångström', vin: null, vehicle_uuid: null }));
      const event = assertProcessed(status);
      assert.equal(event.summary, summary);
      assert.equal(event.customer_name, 'Zoë Ångström');
      assert.equal(JSON.parse(row?.record ?? '{}').summary, summary);
    });
  });

  describe('integration state', () => {
    test('an integration made inactive after the event was received → REJECTED INTEGRATION_INACTIVE', async () => {
      const requestId = await acceptEvent(ctx().app, chatBody(), { username: 'switch' });
      await ctx().provision({ integrations: [{ ...integrations.switchable, active: false }] });
      try {
        await makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker).runOnce(later());
        const status = await statusOf(ctx().app, requestId, 'switch');
        assertRejected(status, ['INTEGRATION_INACTIVE']);
        assert.equal(await summaryRow(ctx().tdb.db.kysely, requestId), undefined);
      } finally {
        await ctx().provision({ integrations: [integrations.switchable] });
      }
    });

    test('rules changed after receipt apply: the worker uses the integration as it is when processing', async () => {
      const requestId = await acceptEvent(ctx().app, chatBody({ dealer_uuid: 'SW-1', vin: null, vehicle_uuid: null }), {
        username: 'switch',
      });
      await ctx().provision({ integrations: [{ ...integrations.switchable, dealerMap: { 'SW-1': 'd-3' } }] });
      try {
        await makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker).runOnce(later());
        assert.equal(assertProcessed(await statusOf(ctx().app, requestId, 'switch')).dealer_uuid, 'd-3');
      } finally {
        await ctx().provision({ integrations: [integrations.switchable] });
      }
    });
  });
});
