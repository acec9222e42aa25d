// The typed partner client (clients/typescript) against the real app on a real port, on both
// dialects: every method, the typed error envelopes, idempotency keys and wrong credentials. And
// the generated clients/typescript/src/schema.d.ts is what openapi-typescript makes of
// docs/openapi.json today.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  type ChatSummaryEvent,
  createDealerGatewayClient,
  type DryRunChatSummaryEvent,
  type Lead,
} from '../../clients/typescript/src/index.js';
import { buildApp } from '../../src/app.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { chatBody, countRows, EVENT_SCOPE, eventsFixture, PASSWORD, UUID_V7, VIN_1 } from '../helpers/events.js';
import { baseFixture, leadBody } from '../helpers/fixtures.js';

// eventsFixture's dealers, customers, vehicles and event partners, plus baseFixture's lead writer
// and one subscriber that holds both scopes (and an event integration) for the client's tests.
const writer = baseFixture.subscribers.find((s) => s.username === 'writer');
assert.ok(writer);
const fixture = {
  ...eventsFixture,
  subscribers: [
    ...eventsFixture.subscribers,
    writer,
    {
      username: 'client',
      password: PASSWORD,
      grants: [
        { scope: 'lead.write', dealers: ['d-1'] },
        { scope: EVENT_SCOPE, dealers: '*' },
      ],
    },
  ],
  integrations: [...eventsFixture.integrations, { subscriber: 'client', eventType: 'vehicle-service-chat', dealerMap: {} }],
};

const lead = leadBody() as Lead;

for (const dialect of testDialects()) {
  describe(`typed partner client [${dialect}]`, () => {
    let tdb: TestDatabase;
    let app: FastifyInstance;
    let baseUrl: string;
    before(async () => {
      tdb = await createTestDatabase(dialect);
      app = await buildApp(tdb.config, { db: tdb.db, logger: false });
      await applyProvisioning(tdb.db.kysely, fixture);
      await app.directory.refresh();
      await app.listen({ port: 0, host: '127.0.0.1' });
      baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await app?.close();
      await tdb?.destroy();
    });

    const client = () => createDealerGatewayClient({ baseUrl, username: 'client', password: PASSWORD });

    test('saveLead creates a lead, then updates it; getLead reads it back', async () => {
      const created = await client().saveLead('d-1', lead);
      assert.equal(created.status, 200, JSON.stringify(created.error));
      assert.equal(created.error, undefined);
      assert.equal(created.data?.isNewCreated, true);
      const prospectUuid = created.data?.prospectUuid;
      assert.ok(prospectUuid);

      const updated = await client().saveLead('d-1', { ...lead, lastContactDate: '2023-06-09 08:30:00Z' });
      assert.equal(updated.status, 200);
      assert.equal(updated.data?.isNewCreated, false);
      assert.equal(updated.data?.prospectUuid, prospectUuid);

      const read = await client().getLead('d-1', prospectUuid);
      assert.equal(read.status, 200);
      assert.equal(read.error, undefined);
      assert.equal(read.data?.lead?.prospectUuid, prospectUuid);
      assert.equal(read.data?.lead?.dealerUuid, 'd-1');
      assert.equal(read.data?.lead?.leadId, lead.leadId);
      assert.equal(read.data?.lead?.lastContactDate, '2023-06-09 08:30:00Z');
      assert.equal(read.data?.lead?.saveCount, 2);
    });

    test('a 400 answers the typed error envelope, without throwing', async () => {
      const bad = await client().saveLead('d-1', { ...lead, status: 'OPEN' as 'NEW' });
      assert.equal(bad.status, 400);
      assert.equal(bad.data, undefined);
      // Leads answer 4xx in the Spring-style envelope and 5xx in the lead envelope: `in` narrows.
      assert.ok(bad.error && 'errorCode' in bad.error);
      assert.equal(bad.error.status, 400);
      assert.equal(typeof bad.error.errorCode, 'string');
      assert.equal(typeof bad.error.message, 'string');
      assert.equal(bad.error.path, '/leads/v2/dealer/d-1');

      const missing = await client().getLead('d-1', 'no-such-prospect');
      assert.equal(missing.status, 404);
      assert.equal(missing.data, undefined);
      assert.ok(missing.error && 'errorCode' in missing.error && missing.error.errorCode);
    });

    test('sendChatSummary with an idempotency key twice answers the same requestId; getEventStatus reads it', async () => {
      const event = chatBody({ chat_code: `CHAT-CLIENT-${dialect}` });
      const first = await client().sendChatSummary(event, { idempotencyKey: 'client-key-1' });
      assert.equal(first.status, 200, JSON.stringify(first.error));
      const requestId = first.data?.requestId;
      assert.ok(requestId);
      assert.match(requestId, UUID_V7);
      const again = await client().sendChatSummary(event, { idempotencyKey: 'client-key-1' });
      assert.equal(again.status, 200);
      assert.equal(again.data?.requestId, requestId);
      const other = await client().sendChatSummary(event);
      assert.equal(other.status, 200);
      assert.notEqual(other.data?.requestId, requestId);

      const status = await client().getEventStatus(requestId);
      assert.equal(status.status, 200);
      assert.equal(status.data?.requestId, requestId);
      assert.equal(status.data?.status, 'RECEIVED');

      const unknown = await client().getEventStatus('0190b4a0-0000-7000-8000-000000000000');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.data, undefined);
      assert.ok(unknown.error?.errors?.[0]?.errorCode);
    });

    test('dryRunChatSummary answers the outcome and stores nothing', async () => {
      const stored = await countRows(tdb.db.kysely, 'events');
      const dry = await client().dryRunChatSummary(chatBody());
      assert.equal(dry.status, 200, JSON.stringify(dry.error));
      assert.equal(dry.data?.requestId, null);
      assert.equal(dry.data?.dryRun?.status, 'PROCESSED');
      assert.equal(dry.data?.dryRun?.dealerUuid, 'd-1');
      assert.equal(dry.data?.dryRun?.canonical?.chat_code, 'CHAT-1');
      assert.equal(await countRows(tdb.db.kysely, 'events'), stored);
    });

    test("a typed event literal with a field of the partner's own is sent as is", async () => {
      const event: ChatSummaryEvent = {
        dealer_uuid: 'd-1',
        vin: VIN_1,
        chat_code: `CHAT-TYPED-${dialect}`,
        escalation_flag: true,
        media: [{ type: 'image', url: 'https://cdn.example.com/a.jpg' }],
        partner_conversation: { id: 'conv-9', channel: 'sms' },
      };
      const sent = await client().sendChatSummary(event);
      assert.equal(sent.status, 200, JSON.stringify(sent.error));
      assert.match(sent.data?.requestId ?? '', UUID_V7);
      const dry = await client().dryRunChatSummary(event);
      assert.equal(dry.status, 200, JSON.stringify(dry.error));
      assert.equal(dry.data?.dryRun?.canonical?.chat_code, `CHAT-TYPED-${dialect}`);
    });

    test('wrong credentials: 401 WRONG_CREDENTIAL on every method, in each endpoint’s envelope', async () => {
      const wrong = createDealerGatewayClient({ baseUrl, username: 'client', password: 'not-the-password' });
      const save = await wrong.saveLead('d-1', lead);
      assert.equal(save.status, 401);
      assert.equal(save.data, undefined);
      assert.ok(save.error && 'errorCode' in save.error);
      assert.equal(save.error.errorCode, 'WRONG_CREDENTIAL');
      const send = await wrong.sendChatSummary(chatBody());
      assert.equal(send.status, 401);
      assert.equal(send.error?.errors?.[0]?.errorCode, 'WRONG_CREDENTIAL');
      const dry = await wrong.dryRunChatSummary(chatBody());
      assert.equal(dry.status, 401);
      const status = await wrong.getEventStatus('0190b4a0-0000-7000-8000-000000000000');
      assert.equal(status.status, 401);
    });

    test('a network failure throws', async () => {
      const failing = createDealerGatewayClient({
        baseUrl,
        username: 'client',
        password: PASSWORD,
        fetch: async () => {
          throw new TypeError('fetch failed');
        },
      });
      await assert.rejects(failing.getLead('d-1', 'x'), /fetch failed/);
    });
  });
}

// Compile-time checks (`npx tsc --noEmit -p .`; never called): the event type comes from the
// generated schema, so its canonical fields are typed while any other field is accepted. Each
// expected error below fails the typecheck if the type stops catching the mistake (as it would
// if the event type were Record<string, unknown> again).
export function typedEventChecks(send: (event: ChatSummaryEvent) => void, dryRun: (event: DryRunChatSummaryEvent) => void): void {
  send({ dealer_uuid: 'd-1', vin: null, event_timestamp: 1_700_000_000_000, anything: { nested: [1, 'two'] } });
  dryRun({ dealer_uuid: 'd-1', line_items: [{ description: 'Brake pads', payable: true }], own_field: 1 });
  // @ts-expect-error vin is a string (or null), not a number
  send({ dealer_uuid: 'd-1', vin: 1234 });
  // @ts-expect-error event_timestamp is epoch milliseconds, a number
  send({ dealer_uuid: 'd-1', event_timestamp: '2026-11-23T10:00:00Z' });
  // @ts-expect-error media type is 'image' or 'video'
  send({ dealer_uuid: 'd-1', media: [{ type: 'audio', url: 'https://cdn.example.com/a.mp3' }] });
  // @ts-expect-error escalation_flag is a boolean
  dryRun({ dealer_uuid: 'd-1', escalation_flag: 'yes' });
}

test('clients/typescript/src/schema.d.ts is what openapi-typescript generates from docs/openapi.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-client-'));
  try {
    const out = join(dir, 'schema.d.ts');
    const run = spawnSync(process.execPath, ['node_modules/openapi-typescript/bin/cli.js', 'docs/openapi.json', '-o', out], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(
      readFileSync('clients/typescript/src/schema.d.ts', 'utf8'),
      readFileSync(out, 'utf8'),
      'clients/typescript/src/schema.d.ts is stale: run `npm run client:generate`',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
