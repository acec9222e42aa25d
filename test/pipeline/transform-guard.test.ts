// A transformation that never ends is stopped and the event REJECTED, instead of stalling the worker.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptEvent, drain, eventsFixture, makeWorker, statusOf } from '../helpers/events.js';
import { describeEachDialect } from '../helpers/suite.js';

describeEachDialect('pipeline: runaway transformations', { fixture: eventsFixture }, (ctx) => {
  for (const [name, transform] of [
    ['endless recursion', '($f := function($x){ $f($x + 1) }; $f(0))'],
    ['a loop that outlives the time limit', '($l := function($i){ $i < 1e12 ? $l($i + 1) : $i }; $l(0))'],
  ] as const) {
    test(`${name} → REJECTED with TRANSFORM_FAILED`, async () => {
      await ctx().provision({
        integrations: [
          {
            subscriber: 'multi-partner',
            eventType: 'vehicle-service-chat',
            transform: `{ 'dealer_uuid': 'd-1', 'summary': $string(${transform}) }`,
          },
        ],
      });
      const requestId = await acceptEvent(ctx().app, { anything: true });
      const started = Date.now();
      await drain(makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker));
      const status = await statusOf(ctx().app, requestId);
      assert.equal(status.status, 'REJECTED');
      assert.deepEqual(
        status.errors.map((e) => e.errorCode),
        ['TRANSFORM_FAILED'],
      );
      assert.ok(Date.now() - started < 30_000, 'the worker was not stalled');
    });
  }
});
