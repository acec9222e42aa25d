// The dry-run service (src/gate/dry-run.ts) with candidate integrations, on both dialects: a
// candidate replaces the stored rules for one run only, is refused as `apply` would refuse it,
// runs with the worker's guardrails; and the comparison of a dry run with a stored outcome.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../src/core/errors.js';
import {
  type CandidateIntegration,
  type DryRunRequest,
  diffOutcomes,
  dryRunEvent,
  dryRunStoredEvent,
  type OutcomeView,
  storedOutcomeOf,
} from '../../src/gate/dry-run.js';
import {
  acceptEvent,
  chatBody,
  countRows,
  eventsFixture,
  integrations,
  makeWorker,
  TRANSFORMER_TRANSFORM,
  transformerBody,
} from '../helpers/events.js';
import { describeEachDialect } from '../helpers/suite.js';

const codes = (items: readonly { errorCode?: string; warningCode?: string }[]) => items.map((i) => i.errorCode ?? i.warningCode);

describeEachDialect('pipeline dry run', { fixture: eventsFixture }, (ctx) => {
  const run = (request: Omit<DryRunRequest, 'eventType'>) =>
    dryRunEvent(ctx().tdb.db.kysely, ctx().app.directory, { eventType: 'vehicle-service-chat', ...request });

  /** Asserts that the dry run throws the 400 AppError `code` with a message matching `message`. */
  async function assertRefused(request: Omit<DryRunRequest, 'eventType'>, code: string, message: RegExp): Promise<void> {
    await assert.rejects(run(request), (err: unknown) => {
      assert.ok(err instanceof AppError, String(err));
      assert.equal(err.code, code);
      assert.equal(err.statusCode, 400);
      assert.match(err.message, message);
      return true;
    });
  }

  describe('candidate integrations', () => {
    const unmapped = JSON.stringify(chatBody({ dealer_uuid: 'P-999' }));

    test('a candidate dealer map that maps the unmapped dealer turns REJECTED into PROCESSED', async () => {
      const stored = await run({ username: 'partner', body: unmapped });
      assert.equal(stored.status, 'REJECTED');
      assert.deepEqual(codes(stored.errors), ['DEALER_NOT_MAPPED']);

      const candidate: CandidateIntegration = { dealerMap: { ...integrations.partner.dealerMap, 'P-999': 'd-1' } };
      const fixed = await run({ username: 'partner', body: unmapped, candidate });
      assert.equal(fixed.status, 'PROCESSED', JSON.stringify(fixed.errors));
      assert.equal(fixed.dealerUuid, 'd-1');
      assert.equal(fixed.canonical?.dealer_uuid, 'd-1');
      assert.deepEqual(fixed.errors, []);
    });

    test('the candidate is used for that run only: the stored integration and the tables are untouched', async () => {
      const before = [await countRows(ctx().tdb.db.kysely, 'events'), await countRows(ctx().tdb.db.kysely, 'chat_summaries')];
      await run({ username: 'partner', body: unmapped, candidate: { dealerMap: { 'P-999': 'd-1' } } });
      assert.deepEqual(ctx().app.directory.integrationOf('partner', 'vehicle-service-chat')?.dealerMap, integrations.partner.dealerMap);
      assert.equal((await run({ username: 'partner', body: unmapped })).status, 'REJECTED');
      assert.deepEqual([await countRows(ctx().tdb.db.kysely, 'events'), await countRows(ctx().tdb.db.kysely, 'chat_summaries')], before);
    });

    test('a subscriber without an integration: REJECTED INTEGRATION_INACTIVE as stored, PROCESSED with a candidate', async () => {
      const body = JSON.stringify(chatBody());
      const stored = await run({ username: 'no-integration', body });
      assert.equal(stored.status, 'REJECTED');
      assert.deepEqual(codes(stored.errors), ['INTEGRATION_INACTIVE']);
      const candidate = await run({ username: 'no-integration', body, candidate: {} });
      assert.equal(candidate.status, 'PROCESSED', JSON.stringify(candidate.errors));
    });

    test('an inactive candidate → REJECTED INTEGRATION_INACTIVE, as the worker would say', async () => {
      const result = await run({ username: 'multi-partner', body: JSON.stringify(chatBody()), candidate: { active: false } });
      assert.equal(result.status, 'REJECTED');
      assert.deepEqual(codes(result.errors), ['INTEGRATION_INACTIVE']);
    });

    test('a candidate schema and transform are run like stored ones', async () => {
      const candidate: CandidateIntegration = {
        dealerMap: { 'S-1': 'd-1' },
        schema: { type: 'object', required: ['store', 'chat'] },
        transform: TRANSFORMER_TRANSFORM.replace('"summary": chat.summary', '"summary": $uppercase(chat.summary)'),
      };
      const ok = await run({ username: 'multi-partner', body: JSON.stringify(transformerBody()), candidate });
      assert.equal(ok.status, 'PROCESSED', JSON.stringify(ok.errors));
      assert.equal(ok.canonical?.summary, 'OIL CHANGE DUE');
      const { chat: _chat, ...noChat } = transformerBody();
      const bad = await run({ username: 'multi-partner', body: JSON.stringify(noChat), candidate });
      assert.equal(bad.status, 'REJECTED');
      assert.ok(codes(bad.errors).includes('SCHEMA_VIOLATION'), JSON.stringify(bad.errors));
    });

    test("a runaway candidate transform is stopped by the worker's guardrails → REJECTED TRANSFORM_FAILED", async () => {
      const candidate = { transform: '( $f := function($n) { $f($n + 1) }; $f(0) )' };
      const result = await run({ username: 'multi-partner', body: JSON.stringify(chatBody()), candidate });
      assert.equal(result.status, 'REJECTED');
      assert.deepEqual(codes(result.errors), ['TRANSFORM_FAILED']);
    });
  });

  describe('candidates `apply` would refuse → 400 VALIDATION_FAILED', () => {
    const body = JSON.stringify(chatBody());

    test('a JSONata expression that does not parse, with its position', async () => {
      await assertRefused(
        { username: 'multi-partner', body, candidate: { transform: '{ "dealer_uuid": store.id' } },
        'VALIDATION_FAILED',
        /transform is not a valid JSONata expression: .*position \d+/,
      );
    });

    test('a JSON Schema that does not compile', async () => {
      await assertRefused(
        { username: 'multi-partner', body, candidate: { schema: { type: 'not-a-type' } } },
        'VALIDATION_FAILED',
        /schema is not a valid JSON Schema/,
      );
    });

    test('a dealer map to a dealer that does not exist', async () => {
      await assertRefused(
        { username: 'partner', body, candidate: { dealerMap: { 'P-1': 'd-9' } } },
        'VALIDATION_FAILED',
        /dealerMap\.P-1: unknown dealer "d-9"/,
      );
    });

    test('a key the provisioning file does not know, and a value of the wrong type', async () => {
      const candidate = { dealerMap: {}, transfrom: 'x', active: 'yes' } as unknown as CandidateIntegration;
      await assertRefused({ username: 'multi-partner', body, candidate }, 'VALIDATION_FAILED', /transfrom is not a known key/);
      await assertRefused({ username: 'multi-partner', body, candidate }, 'VALIDATION_FAILED', /active must be boolean/);
    });

    test("a body that is not a JSON object is refused with the gate's codes", async () => {
      await assertRefused({ username: 'multi-partner', body: '{nope' }, 'INVALID_JSON', /not valid JSON/);
      await assertRefused({ username: 'multi-partner', body: '[1]', candidate: {} }, 'BODY_NOT_OBJECT', /JSON object/);
    });
  });

  describe('comparing with a stored outcome', () => {
    const processed: OutcomeView = {
      status: 'PROCESSED',
      errors: [],
      warnings: [],
      canonical: { dealer_uuid: 'd-1', event_timestamp: 1, summary: 'a', line_items: [{ description: 'x', payable: true }] },
    };

    test('the same outcome: nothing changed', () => {
      const diff = diffOutcomes(processed, structuredClone(processed));
      assert.equal(diff.statusChanged, false);
      assert.deepEqual(diff.changedFields, []);
    });

    test('changed, added and removed canonical fields are named, nested values compared deeply', () => {
      const after: OutcomeView = {
        ...processed,
        canonical: { dealer_uuid: 'd-1', event_timestamp: 1, line_items: [{ description: 'x', payable: false }], vin: 'V' },
      };
      const diff = diffOutcomes(processed, after);
      assert.equal(diff.statusChanged, false);
      assert.deepEqual(diff.changedFields, ['line_items', 'summary', 'vin']);
      assert.equal(diff.before, processed);
      assert.equal(diff.after, after);
    });

    test('REJECTED → PROCESSED: status changed, every field of the new record changed', () => {
      const rejected: OutcomeView = {
        status: 'REJECTED',
        errors: [{ errorCode: 'DEALER_NOT_MAPPED', errorMessage: '…' }],
        warnings: [],
        canonical: null,
      };
      const diff = diffOutcomes(rejected, processed);
      assert.equal(diff.statusChanged, true);
      assert.deepEqual(diff.changedFields, ['dealer_uuid', 'event_timestamp', 'line_items', 'summary']);
    });

    test('a stored REJECTED event against a candidate that fixes it; against its own rules, no change', async () => {
      const requestId = await acceptEvent(ctx().app, chatBody({ dealer_uuid: 'P-999', chat_code: 'DIFF-1' }), { username: 'partner' });
      await makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker).runOnce(Date.now() + 1000);
      const stored = await storedOutcomeOf(ctx().tdb.db.kysely, requestId);
      assert.ok(stored);
      assert.equal(stored.status, 'REJECTED');
      assert.equal(stored.canonical, null);

      const same = await dryRunStoredEvent(ctx().tdb.db.kysely, ctx().app.directory, stored);
      assert.equal(same.diff.statusChanged, false);
      assert.deepEqual(same.diff.after.errors, stored.errors);

      const fixed = await dryRunStoredEvent(ctx().tdb.db.kysely, ctx().app.directory, stored, { dealerMap: { 'P-999': 'd-1' } });
      assert.equal(fixed.diff.statusChanged, true);
      assert.equal(fixed.diff.before.status, 'REJECTED');
      assert.equal(fixed.diff.after.status, 'PROCESSED');
      assert.equal(fixed.result.dealerUuid, 'd-1');
      assert.ok(fixed.diff.changedFields.includes('dealer_uuid'));
      assert.ok(fixed.diff.changedFields.includes('chat_code'));
    });

    test('a stored PROCESSED event without event_timestamp is re-run at its receipt time: only the changed field differs', async () => {
      const { event_timestamp: _t, ...body } = chatBody({ chat_code: 'DIFF-2' });
      const requestId = await acceptEvent(ctx().app, body);
      await makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker).runOnce(Date.now() + 1000);
      const stored = await storedOutcomeOf(ctx().tdb.db.kysely, requestId);
      assert.ok(stored);
      assert.equal(stored.status, 'PROCESSED');
      assert.ok(stored.canonical);

      const same = await dryRunStoredEvent(ctx().tdb.db.kysely, ctx().app.directory, stored);
      assert.deepEqual(same.diff.changedFields, []);
      assert.deepEqual(same.result.canonical, stored.canonical);

      const candidate = { transform: '$merge([$, { "summary": "rewritten" }])' };
      const changed = await dryRunStoredEvent(ctx().tdb.db.kysely, ctx().app.directory, stored, candidate);
      assert.equal(changed.diff.statusChanged, false);
      assert.deepEqual(changed.diff.changedFields, ['summary']);
    });

    test('an unknown requestId has no stored outcome', async () => {
      assert.equal(await storedOutcomeOf(ctx().tdb.db.kysely, '00000000-0000-7000-8000-000000000000'), undefined);
    });
  });
});
