// Reliability of the pipeline: exactly one chat summary per event however often it is processed,
// concurrent workers that never share an event, leases that outlive a dead worker, retries with
// capped exponential backoff ending in FAILED, replay after a fix, and the in-process worker.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { SubscriberDirectory } from '../../src/auth/directory.js';
import type { Db } from '../../src/db/connect.js';
import type { EventRow } from '../../src/db/schema.js';
import { claimBatch } from '../../src/pipeline/claim.js';
import { LeaseLostError, storeOutcome } from '../../src/pipeline/complete.js';
import { evaluateEvent, type Outcome } from '../../src/pipeline/evaluate.js';
import { countReplayable, replayEvents } from '../../src/pipeline/replay.js';
import { backoffMs } from '../../src/pipeline/retry.js';
import {
  acceptEvent,
  chatBody,
  countRows,
  drain,
  eventRow,
  eventsFixture,
  integrations,
  makeWorker,
  statusOf,
  summaryRow,
  VIN_2,
} from '../helpers/events.js';
import { describeEachDialect, type SuiteContext } from '../helpers/suite.js';

const LEASE_MS = 30_000;

function evaluationContext(ctx: SuiteContext) {
  const directory = ctx.app.directory;
  return {
    db: ctx.tdb.db.kysely,
    integrationOf: (u: string, t: string) => directory.integrationOf(u, t),
    principalOf: (u: string) => directory.principalOf(u),
    isKnownDealer: (d: string) => directory.isKnownDealer(d),
  };
}

/** Sends `n` distinct valid events as multi-partner; returns their requestIds. */
async function sendMany(ctx: SuiteContext, n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await acceptEvent(ctx.app, chatBody({ chat_code: `${tag}-${i}` })));
  return ids;
}

describe('backoffMs', () => {
  const half = () => 0.5;

  test('doubles from 1 s with each attempt', () => {
    const delays = Array.from({ length: 9 }, (_, i) => backoffMs(i + 1, half));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000]);
  });

  test('caps at 5 minutes', () => {
    for (const attempts of [10, 11, 20, 100, 1000]) assert.equal(backoffMs(attempts, half), 300_000, `attempt ${attempts}`);
  });

  test('attempt 0 (never claimed) waits like attempt 1', () => {
    assert.equal(backoffMs(0, half), 1000);
  });

  test('jitter stays within ±20 %, around the cap too', () => {
    assert.equal(
      backoffMs(1, () => 0),
      800,
    );
    assert.equal(
      backoffMs(1, () => 0.999_999),
      1200,
    );
    assert.equal(
      backoffMs(3, () => 0),
      3200,
    );
    assert.equal(
      backoffMs(3, () => 0.999_999),
      4800,
    );
    assert.equal(
      backoffMs(40, () => 0),
      240_000,
    );
    assert.equal(
      backoffMs(40, () => 0.999_999),
      360_000,
    );
  });

  test('with the real random source, attempt 1 is between 0.8 s and 1.2 s and the delays are spread', () => {
    const samples = Array.from({ length: 200 }, () => backoffMs(1));
    for (const s of samples) assert.ok(s >= 800 && s <= 1200, String(s));
    assert.ok(new Set(samples).size > 1, 'jitter spreads retries');
  });
});

describeEachDialect('reliability: exactly once and replay', { fixture: eventsFixture }, (ctx) => {
  const worker = (id = 'w1') => makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker, id);

  test('process, replay, process again → still exactly one chat summary for the request, updated', async () => {
    const requestId = await acceptEvent(ctx().app, chatBody({ chat_code: 'ONCE-1' }));
    const t1 = Date.now() + 1000;
    await drain(worker(), t1);
    const first = await summaryRow(ctx().tdb.db.kysely, requestId);
    assert.ok(first);
    assert.equal(first.created_at, t1);
    assert.equal(first.updated_at, t1);

    const t2 = t1 + 1000;
    const replayed = await replayEvents(ctx().tdb.db.kysely, { requestIds: [requestId] }, t2);
    assert.equal(replayed.replayed, 1);
    const queued = await eventRow(ctx().tdb.db.kysely, requestId);
    assert.equal(queued.status, 'RECEIVED');
    assert.equal(queued.attempts, 0);
    assert.equal(queued.processed_at, null);
    assert.equal(queued.run_after, t2);

    const t3 = t2 + 1000;
    await drain(worker(), t3);
    const rows = await ctx().tdb.db.kysely.selectFrom('chat_summaries').selectAll().where('request_id', '=', requestId).execute();
    assert.equal(rows.length, 1);
    const second = rows[0] as NonNullable<typeof first>;
    assert.equal(second.created_at, t1, 'the same row');
    assert.equal(second.updated_at, t3, 'updated by the second pass');
    assert.equal(second.record, first.record);
    const status = await statusOf(ctx().app, requestId);
    assert.equal(status.status, 'PROCESSED');
    assert.equal(status.processedAt, new Date(t3).toISOString());
  });

  test('processing the same event twice (two racing passes) leaves one summary', async () => {
    const requestId = await acceptEvent(ctx().app, chatBody({ chat_code: 'ONCE-2' }));
    const now = Date.now() + 1000;
    await drain(worker(), now);
    for (let i = 1; i <= 3; i++) {
      await replayEvents(ctx().tdb.db.kysely, { requestIds: [requestId] }, now + i * 1000);
      await drain(worker(), now + i * 1000 + 1);
    }
    const rows = await ctx().tdb.db.kysely.selectFrom('chat_summaries').select('request_id').where('request_id', '=', requestId).execute();
    assert.equal(rows.length, 1);
  });

  test('a replay that now rejects the event withdraws the summary it produced before', async () => {
    const requestId = await acceptEvent(ctx().app, chatBody({ dealer_uuid: 'SW-9', vin: null, vehicle_uuid: null }), {
      username: 'switch',
    });
    await ctx().provision({ integrations: [{ ...integrations.switchable, dealerMap: { 'SW-9': 'd-2' } }] });
    try {
      const now = Date.now() + 1000;
      await drain(worker(), now);
      assert.equal((await statusOf(ctx().app, requestId, 'switch')).status, 'PROCESSED');
      assert.ok(await summaryRow(ctx().tdb.db.kysely, requestId));

      await ctx().provision({ integrations: [integrations.switchable] });
      assert.equal((await replayEvents(ctx().tdb.db.kysely, { requestIds: [requestId] }, now + 1000)).replayed, 1);
      await drain(worker(), now + 2000);
      const status = await statusOf(ctx().app, requestId, 'switch');
      assert.equal(status.status, 'REJECTED');
      assert.deepEqual(
        status.errors.map((e) => e.errorCode),
        ['DEALER_NOT_MAPPED'],
      );
      assert.equal(await summaryRow(ctx().tdb.db.kysely, requestId), undefined);
    } finally {
      await ctx().provision({ integrations: [integrations.switchable] });
    }
  });

  test('replay after fixing a mapping: REJECTED DEALER_NOT_MAPPED → replay → PROCESSED with the mapped dealer', async () => {
    const requestId = await acceptEvent(ctx().app, chatBody({ dealer_uuid: 'EXT-NEW', vin: VIN_2, vehicle_uuid: null }));
    const now = Date.now() + 1000;
    await drain(worker(), now);
    const rejected = await statusOf(ctx().app, requestId);
    assert.equal(rejected.status, 'REJECTED');
    assert.deepEqual(
      rejected.errors.map((e) => e.errorCode),
      ['DEALER_NOT_MAPPED'],
    );

    await ctx().provision({ integrations: [{ ...integrations.multi, dealerMap: { ...integrations.multi.dealerMap, 'EXT-NEW': 'd-2' } }] });
    try {
      const filter = { statuses: ['REJECTED' as const], subscriber: 'multi-partner' };
      const pending = await countReplayable(ctx().tdb.db.kysely, filter);
      assert.ok(pending >= 1);
      const report = await replayEvents(ctx().tdb.db.kysely, filter, now + 1000);
      assert.equal(report.replayed, pending);
      const queued = await statusOf(ctx().app, requestId);
      assert.equal(queued.status, 'RECEIVED');
      assert.deepEqual(queued.errors, []);
      assert.equal(queued.processedAt, null);

      await drain(worker(), now + 2000);
      const processed = await statusOf(ctx().app, requestId);
      assert.equal(processed.status, 'PROCESSED');
      assert.equal(processed.event?.dealer_uuid, 'd-2');
      const summary = await summaryRow(ctx().tdb.db.kysely, requestId);
      assert.equal(summary?.dealer_uuid, 'd-2');
      assert.equal(summary?.vehicle_uuid, 'v-2', 'linked with the dealer it now resolves to');
    } finally {
      await ctx().provision({ integrations: [integrations.multi] });
    }
  });

  test('without request ids or statuses, a replay only touches REJECTED and FAILED events', async () => {
    const processed = await acceptEvent(ctx().app, chatBody({ chat_code: 'DEFAULT-FILTER' }));
    const rejected = await acceptEvent(ctx().app, chatBody({ dealer_uuid: 'EXT-NOPE' }));
    const now = Date.now() + 1000;
    await drain(worker(), now);
    await replayEvents(ctx().tdb.db.kysely, { subscriber: 'multi-partner' }, now + 1000);
    assert.equal((await eventRow(ctx().tdb.db.kysely, processed)).status, 'PROCESSED');
    assert.equal((await eventRow(ctx().tdb.db.kysely, rejected)).status, 'RECEIVED');
    await drain(worker(), now + 2000);
  });

  test('replay does not touch an event leased by a live worker', async () => {
    await drain(worker(), Date.now() + 1000);
    const requestId = await acceptEvent(ctx().app, chatBody({ chat_code: 'LEASED' }));
    const now = Date.now() + 1000;
    const claimed = await claimBatch(ctx().tdb.db, { workerId: 'live', now, limit: 10, leaseMs: LEASE_MS });
    assert.deepEqual(
      claimed.map((r) => r.request_id),
      [requestId],
    );

    for (const filter of [{ requestIds: [requestId] }, { statuses: ['RECEIVED' as const] }]) {
      assert.equal((await replayEvents(ctx().tdb.db.kysely, filter, now + 1000)).replayed, 0);
    }
    const row = await eventRow(ctx().tdb.db.kysely, requestId);
    assert.equal(row.locked_by, 'live');
    assert.equal(row.locked_until, now + LEASE_MS);
    assert.equal(row.attempts, 1);

    // The live worker finishes undisturbed.
    const claimedRow = claimed[0] as EventRow;
    const outcome = await evaluateEvent(evaluationContext(ctx()), claimedRow);
    await storeOutcome(ctx().tdb.db.kysely, claimedRow, 'live', outcome, now + 2000);
    assert.equal((await eventRow(ctx().tdb.db.kysely, requestId)).status, 'PROCESSED');
  });

  test('a dry-run count (countReplayable) agrees with what replayEvents then replays, leased events excluded', async () => {
    await drain(worker(), Date.now() + 1000);
    const requestId = await acceptEvent(ctx().app, chatBody({ chat_code: 'DRY-RUN-LEASED' }));
    const now = Date.now() + 1000;
    await claimBatch(ctx().tdb.db, { workerId: 'live', now, limit: 10, leaseMs: LEASE_MS });
    try {
      const counted = await countReplayable(ctx().tdb.db.kysely, { requestIds: [requestId] });
      const replayed = (await replayEvents(ctx().tdb.db.kysely, { requestIds: [requestId] })).replayed;
      assert.equal(replayed, 0, 'the live lease is respected');
      assert.equal(counted, replayed, 'the dry run announces what the replay does');
    } finally {
      await drain(worker(), now + LEASE_MS + 1);
    }
  });

  test('once the lease has expired, a replay takes the event back', async () => {
    await drain(worker(), Date.now() + 1000);
    const requestId = await acceptEvent(ctx().app, chatBody({ chat_code: 'EXPIRED' }));
    const now = Date.now() + 1000;
    await claimBatch(ctx().tdb.db, { workerId: 'gone', now, limit: 10, leaseMs: LEASE_MS });
    assert.equal((await replayEvents(ctx().tdb.db.kysely, { requestIds: [requestId] }, now + LEASE_MS + 1)).replayed, 1);
    const row = await eventRow(ctx().tdb.db.kysely, requestId);
    assert.equal(row.locked_by, null);
    assert.equal(row.attempts, 0);
    await drain(worker(), now + LEASE_MS + 2);
    assert.equal((await eventRow(ctx().tdb.db.kysely, requestId)).status, 'PROCESSED');
  });
});

describeEachDialect('reliability: concurrent workers', { fixture: eventsFixture, env: { WORKER_BATCH_SIZE: '10' } }, (ctx) => {
  let secondDb: Db;
  let secondDirectory: SubscriberDirectory;
  before(async () => {
    // PostgreSQL: a second pool, as a second process would have. SQLite: one writer per process,
    // so the second worker shares the connection (a separate process would use busy_timeout).
    secondDb = ctx().tdb.dialect === 'postgres' ? ctx().tdb.connectAgain() : ctx().tdb.db;
    secondDirectory = new SubscriberDirectory(secondDb.kysely);
    await secondDirectory.refresh(true);
  });

  test('two workers draining 50 events at once: every event PROCESSED once, 50 summaries', async () => {
    const ids = await sendMany(ctx(), 50, 'RACE');
    const a = makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker, 'worker-a');
    const b = makeWorker(secondDb, secondDirectory, ctx().tdb.config.worker, 'worker-b');
    const [ra, rb] = await Promise.all([drain(a), drain(b)]);
    assert.equal(ra.processed + rb.processed, 50);
    assert.equal(ra.claimed + rb.claimed, 50, 'no event was claimed twice');
    for (const r of [ra, rb]) {
      assert.equal(r.rejected, 0);
      assert.equal(r.retried, 0);
      assert.equal(r.failed, 0);
      assert.equal(r.leaseLost, 0);
    }
    const rows = await ctx().tdb.db.kysely.selectFrom('events').selectAll().where('request_id', 'in', ids).execute();
    assert.equal(rows.length, 50);
    for (const row of rows) {
      assert.equal(row.status, 'PROCESSED');
      assert.equal(row.attempts, 1, `${row.request_id} was claimed once`);
      assert.equal(row.locked_by, null);
    }
    const summaries = await ctx().tdb.db.kysely.selectFrom('chat_summaries').select('request_id').where('request_id', 'in', ids).execute();
    assert.equal(summaries.length, 50);
    assert.equal(new Set(summaries.map((s) => s.request_id)).size, 50);
    assert.equal(await countRows(ctx().tdb.db.kysely, 'chat_summaries'), 50);
  });

  test('concurrent claims are disjoint', async () => {
    const ids = await sendMany(ctx(), 50, 'CLAIM');
    const now = Date.now() + 1000;
    const [a, b] = await Promise.all([
      claimBatch(ctx().tdb.db, { workerId: 'claim-a', now, limit: 25, leaseMs: LEASE_MS }),
      claimBatch(secondDb, { workerId: 'claim-b', now, limit: 25, leaseMs: LEASE_MS }),
    ]);
    const setA = new Set(a.map((r) => r.request_id));
    const setB = new Set(b.map((r) => r.request_id));
    assert.equal(setA.size, a.length);
    assert.equal(setB.size, b.length);
    assert.deepEqual(
      [...setA].filter((id) => setB.has(id)),
      [],
      'no event in both batches',
    );
    assert.deepEqual([...setA, ...setB].sort(), [...ids].sort(), 'together they claimed all 50');
    for (const r of a) assert.equal(r.locked_by, 'claim-a');
    for (const r of b) assert.equal(r.locked_by, 'claim-b');
    // A third claimer finds nothing while the leases hold.
    assert.deepEqual(await claimBatch(ctx().tdb.db, { workerId: 'claim-c', now: now + 1, limit: 50, leaseMs: LEASE_MS }), []);
    // Clean up: process them once the leases have expired.
    const report = await drain(makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker), now + LEASE_MS + 1);
    assert.equal(report.processed, 50);
  });
});

describeEachDialect('reliability: claim expiry after a worker dies', { fixture: eventsFixture }, (ctx) => {
  test('a dead worker holds its batch until the lease expires; its late write then changes nothing', async () => {
    const ids = await sendMany(ctx(), 3, 'DEAD');
    const now = Date.now() + 1000;
    const dead = await claimBatch(ctx().tdb.db, { workerId: 'dead', now, limit: 10, leaseMs: LEASE_MS });
    assert.deepEqual(dead.map((r) => r.request_id).sort(), [...ids].sort());

    const b = makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker, 'worker-b');
    const early = await b.runOnce(now + 1000);
    assert.equal(early.claimed, 0, 'nothing to take while the lease holds');
    for (const id of ids) {
      const row = await eventRow(ctx().tdb.db.kysely, id);
      assert.equal(row.status, 'RECEIVED');
      assert.equal(row.locked_by, 'dead');
    }

    const late = await b.runOnce(now + LEASE_MS + 1000);
    assert.equal(late.claimed, 3);
    assert.equal(late.processed, 3);
    const after = new Map<string, EventRow>();
    for (const id of ids) {
      const row = await eventRow(ctx().tdb.db.kysely, id);
      assert.equal(row.status, 'PROCESSED');
      assert.equal(row.attempts, 2, 'claimed by the dead worker, then by B');
      assert.equal(row.processed_at, now + LEASE_MS + 1000);
      after.set(id, row);
    }
    const summariesBefore = await ctx().tdb.db.kysely.selectFrom('chat_summaries').selectAll().where('request_id', 'in', ids).execute();

    // The dead worker wakes up and tries to write its outcomes.
    const deadRow = dead[0] as EventRow;
    const processed = await evaluateEvent(evaluationContext(ctx()), deadRow);
    assert.equal(processed.kind, 'processed');
    const rejected: Outcome = {
      kind: 'rejected',
      dealerUuid: null,
      errors: [{ errorCode: 'DEALER_NOT_MAPPED', errorMessage: 'stale' }],
      warnings: [],
    };
    for (const outcome of [processed, rejected]) {
      await assert.rejects(storeOutcome(ctx().tdb.db.kysely, deadRow, 'dead', outcome, now + LEASE_MS + 2000), LeaseLostError);
    }
    for (const id of ids) assert.deepEqual(await eventRow(ctx().tdb.db.kysely, id), after.get(id), 'event unchanged');
    const summariesAfter = await ctx().tdb.db.kysely.selectFrom('chat_summaries').selectAll().where('request_id', 'in', ids).execute();
    assert.deepEqual(summariesAfter, summariesBefore, 'summaries unchanged (the rejected write did not withdraw them)');
  });

  test('a worker that lost its lease mid-batch counts it and moves on', async () => {
    const [requestId] = await sendMany(ctx(), 1, 'LOST');
    const now = Date.now() + 1000;
    const [row] = await claimBatch(ctx().tdb.db, { workerId: 'slow', now, limit: 10, leaseMs: LEASE_MS });
    assert.equal(row?.request_id, requestId);
    // Another worker takes it after the lease and finishes first.
    await makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker, 'fast').runOnce(now + LEASE_MS + 1);
    const finished = await eventRow(ctx().tdb.db.kysely, requestId as string);
    assert.equal(finished.status, 'PROCESSED');
    const outcome = await evaluateEvent(evaluationContext(ctx()), row as EventRow);
    await assert.rejects(storeOutcome(ctx().tdb.db.kysely, row as EventRow, 'slow', outcome, now + LEASE_MS + 2), LeaseLostError);
    assert.deepEqual(await eventRow(ctx().tdb.db.kysely, requestId as string), finished);
  });
});

describeEachDialect('reliability: retries', { fixture: eventsFixture, env: { WORKER_MAX_ATTEMPTS: '3' } }, (ctx) => {
  const rename = (from: string, to: string) => sql`ALTER TABLE ${sql.table(from)} RENAME TO ${sql.table(to)}`.execute(ctx().tdb.db.kysely);
  const worker = () => makeWorker(ctx().tdb.db, ctx().app.directory, ctx().tdb.config.worker);

  test('a failing store is retried with backoff, then FAILED with PROCESSING_FAILED; replay after the fix processes it', async () => {
    assert.equal(ctx().tdb.config.worker.maxAttempts, 3);
    const requestId = await acceptEvent(ctx().app, chatBody({ chat_code: 'RETRY' }));
    await rename('chat_summaries', 'chat_summaries_offline');
    try {
      // Attempt 1.
      const t1 = Date.now() + 1000;
      const r1 = await worker().runOnce(t1);
      assert.deepEqual(r1, { claimed: 1, processed: 0, rejected: 0, retried: 1, failed: 0, leaseLost: 0 });
      let row = await eventRow(ctx().tdb.db.kysely, requestId);
      assert.equal(row.status, 'RECEIVED');
      assert.equal(row.attempts, 1);
      assert.ok(row.last_error, 'last_error is set');
      assert.match(row.last_error, /chat_summaries/);
      assert.equal(row.locked_by, null);
      assert.equal(row.locked_until, null);
      const delay1 = row.run_after - t1;
      assert.ok(delay1 >= 800 && delay1 <= 1200, `first backoff ${delay1} ms`);

      // The partner sees RECEIVED, and nothing of the internal error.
      const res = await statusOf(ctx().app, requestId);
      assert.equal(res.status, 'RECEIVED');
      assert.deepEqual(res.errors, []);
      assert.ok(!JSON.stringify(res).includes('chat_summaries'));

      // Before run_after nothing is claimed.
      assert.equal((await worker().runOnce(row.run_after - 1)).claimed, 0);

      // Attempt 2.
      const t2 = row.run_after;
      const r2 = await worker().runOnce(t2);
      assert.equal(r2.retried, 1);
      row = await eventRow(ctx().tdb.db.kysely, requestId);
      assert.equal(row.status, 'RECEIVED');
      assert.equal(row.attempts, 2);
      const delay2 = row.run_after - t2;
      assert.ok(delay2 >= 1600 && delay2 <= 2400, `second backoff ${delay2} ms`);
      assert.equal((await worker().runOnce(row.run_after - 1)).claimed, 0);

      // Attempt 3 = WORKER_MAX_ATTEMPTS.
      const t3 = row.run_after;
      const r3 = await worker().runOnce(t3);
      assert.equal(r3.failed, 1);
      row = await eventRow(ctx().tdb.db.kysely, requestId);
      assert.equal(row.status, 'FAILED');
      assert.equal(row.attempts, 3);
      assert.equal(row.processed_at, t3);
      assert.equal(row.locked_by, null);
      assert.deepEqual(
        JSON.parse(row.errors).map((e: { errorCode: string }) => e.errorCode),
        ['PROCESSING_FAILED'],
      );
      const failed = await statusOf(ctx().app, requestId);
      assert.equal(failed.status, 'FAILED');
      assert.deepEqual(
        failed.errors.map((e) => e.errorCode),
        ['PROCESSING_FAILED'],
      );
      assert.equal(failed.event, null);
      assert.equal(failed.processedAt, new Date(t3).toISOString());
      assert.ok(!JSON.stringify(failed).includes('chat_summaries'), 'the internal detail stays internal');

      // FAILED events are not claimed again, however late.
      assert.equal((await worker().runOnce(t3 + 24 * 60 * 60 * 1000)).claimed, 0);
    } finally {
      await rename('chat_summaries_offline', 'chat_summaries');
    }

    const t4 = Date.now() + 1000;
    assert.equal((await replayEvents(ctx().tdb.db.kysely, { statuses: ['FAILED'] }, t4)).replayed, 1);
    const report = await worker().runOnce(t4);
    assert.equal(report.processed, 1);
    const row = await eventRow(ctx().tdb.db.kysely, requestId);
    assert.equal(row.status, 'PROCESSED');
    assert.equal(row.attempts, 1);
    assert.equal(row.last_error, null);
    assert.deepEqual(JSON.parse(row.errors), []);
    assert.ok(await summaryRow(ctx().tdb.db.kysely, requestId));
  });

  test('a poison event whose workers keep dying is FAILED once claimed more than WORKER_MAX_ATTEMPTS times', async () => {
    const requestId = await acceptEvent(ctx().app, chatBody({ chat_code: 'POISON' }));
    let now = Date.now() + 1000;
    for (let i = 1; i <= 3; i++) {
      const claimed = await claimBatch(ctx().tdb.db, { workerId: `doomed-${i}`, now, limit: 10, leaseMs: LEASE_MS });
      assert.deepEqual(
        claimed.map((r) => r.request_id),
        [requestId],
      );
      now += LEASE_MS + 1;
    }
    const report = await worker().runOnce(now);
    assert.equal(report.failed, 1);
    const row = await eventRow(ctx().tdb.db.kysely, requestId);
    assert.equal(row.status, 'FAILED');
    assert.equal(row.attempts, 4);
    assert.match(row.last_error ?? '', /claimed 4 times/);
    assert.equal(await summaryRow(ctx().tdb.db.kysely, requestId), undefined);
  });
});

describeEachDialect('reliability: in-process worker', { fixture: eventsFixture, env: { WORKER_ENABLED: 'true' } }, (ctx) => {
  test('with WORKER_ENABLED=true the app processes an event on its own', async () => {
    await ctx().app.ready();
    const requestId = await acceptEvent(ctx().app, chatBody({ chat_code: 'IN-PROCESS' }));
    const deadline = Date.now() + 5000;
    let status = await statusOf(ctx().app, requestId);
    while (status.status === 'RECEIVED' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      status = await statusOf(ctx().app, requestId);
    }
    assert.equal(status.status, 'PROCESSED', 'processed within 5 s');
    assert.equal(status.event?.chat_code, 'IN-PROCESS');
    assert.ok(await summaryRow(ctx().tdb.db.kysely, requestId));
  });
});
