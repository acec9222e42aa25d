// The gate's hand-off to the in-process worker (SQLite): events stored already leased to the
// worker and handed to it from the commit, so it neither claims them nor reads their bodies
// again. Each is processed exactly once; retries and replays still come through claims, even
// while handed-over events fill every batch; a stopping worker gives back what it had not
// started; an event whose lease ran out in the hand-off queue is left to the claims.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SubscriberDirectory } from '../../src/auth/directory.js';
import type { Transact } from '../../src/db/connect.js';
import type { EventRow } from '../../src/db/schema.js';
import type { Worker } from '../../src/pipeline/worker.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { GroupCommitter } from '../../src/storage/group-commit.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { chatBody, eventRow, eventsFixture, makeWorker, newEventRow } from '../helpers/events.js';
import { waitFor } from '../helpers/suite.js';

const rowOf = (body: Record<string, unknown>) => newEventRow('multi-partner', body);

if (testDialects().includes('sqlite')) {
  describe('hand-off from the gate to the in-process worker [sqlite]', () => {
    let tdb: TestDatabase;
    let directory: SubscriberDirectory;
    before(async () => {
      tdb = await createTestDatabase('sqlite');
      await applyProvisioning(tdb.db.kysely, { ...eventsFixture });
      directory = new SubscriberDirectory(tdb.db.kysely);
      await directory.refresh(true);
    });
    after(() => tdb?.destroy());

    /** A worker and a committer wired as in the storage thread; `handedOver` records what went the short way. */
    function wired(workerId: string, batchSize = 250): { worker: Worker; committer: GroupCommitter; handedOver: Set<string> } {
      let worker: Worker | undefined;
      const handedOver = new Set<string>();
      const committer = new GroupCommitter({
        db: tdb.db,
        handOff: {
          lease: (count) => worker?.leaseForHandOff(count),
          onLeased: (rows) => {
            for (const row of rows) handedOver.add(row.request_id);
            worker?.handOff(rows);
          },
        },
        onCommitted: (stats) => {
          if (stats.events > 0) worker?.wake();
        },
      });
      const transact: Transact = (work) => committer.transact(work);
      worker = makeWorker(tdb.db, directory, { ...tdb.config.worker, batchSize }, workerId, transact);
      return { worker, committer, handedOver };
    }

    const attemptsOf = async (id: string) =>
      (await tdb.db.kysely.selectFrom('event_attempts').select('attempt').where('request_id', '=', id).execute()).map((r) => r.attempt);

    test('events are stored leased to the running worker and processed once each, without a claim', async () => {
      const { worker, committer, handedOver } = wired('hand-1');
      worker.start();
      try {
        const rows = Array.from({ length: 40 }, (_, i) => rowOf(chatBody({ chat_code: `HAND-${i}` })));
        await Promise.all(rows.map((row) => committer.storeEvent(row)));
        // Every one went the short way: stored leased to this worker, its first attempt counted.
        assert.deepEqual(
          rows.filter((row) => !handedOver.has(row.request_id)).map((row) => row.request_id),
          [],
        );
        await waitFor('all processed', async () => {
          for (const row of rows) if ((await eventRow(tdb.db.kysely, row.request_id)).status !== 'PROCESSED') return false;
          return true;
        });
        // A claim on top of the hand-off would have counted a second attempt.
        for (const row of rows) {
          const event = await eventRow(tdb.db.kysely, row.request_id);
          assert.equal(event.attempts, 1);
          assert.equal(event.locked_by, null);
          assert.deepEqual(await attemptsOf(row.request_id), [1], 'one attempt on the timeline');
        }
      } finally {
        await worker.stop();
      }
    });

    /** Rows stored as the committer stores them for `worker`, and handed to it. */
    async function handedOver(worker: Worker, count: number, prefix: string): Promise<string[]> {
      const lease = { lockedBy: worker.id, until: Date.now() + 60_000 };
      const rows = Array.from({ length: count }, (_, i) => ({
        ...rowOf(chatBody({ chat_code: `${prefix}-${i}` })),
        locked_by: lease.lockedBy,
        locked_until: lease.until,
        attempts: 1,
      }));
      const plain = new GroupCommitter({ db: tdb.db });
      await Promise.all(rows.map((row) => plain.storeEvent(row)));
      worker.handOff(rows as EventRow[]);
      return rows.map((r) => r.request_id);
    }

    test('while handed-over events fill every batch, the queue is still claimed at least once a second', async () => {
      const { worker } = wired('hand-2', 5);
      await handedOver(worker, 15, 'FULL');
      const t0 = Date.now();
      assert.equal((await worker.runOnce(t0)).claimed, 5, 'the first batch: 5 handed over (and a claim that finds nothing)');
      // An event that only a claim can find (stored unleased), arriving now.
      const waiting = rowOf(chatBody({ chat_code: 'CLAIMED-ONLY' }));
      await new GroupCommitter({ db: tdb.db }).storeEvent(waiting);
      assert.equal((await worker.runOnce(t0 + 10)).claimed, 5, 'a full batch of hand-overs, no claim 10 ms later');
      assert.equal((await eventRow(tdb.db.kysely, waiting.request_id)).status, 'RECEIVED');
      assert.equal((await worker.runOnce(t0 + 1500)).claimed, 6, 'a second later the queue is claimed as well');
      assert.equal((await eventRow(tdb.db.kysely, waiting.request_id)).status, 'PROCESSED');
    });

    test('a stopping worker gives back the events handed over and not started, and takes no more', async () => {
      const { worker } = wired('hand-3');
      const queued = await handedOver(worker, 3, 'GIVEN-BACK');
      assert.equal(worker.leaseForHandOff(1), undefined, 'a worker that is not running takes no hand-overs');
      await worker.stop();
      const late = await handedOver(worker, 2, 'LATE');
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const id of [...queued, ...late]) {
        const event = await eventRow(tdb.db.kysely, id);
        assert.deepEqual(
          { status: event.status, locked_by: event.locked_by, attempts: event.attempts },
          { status: 'RECEIVED', locked_by: null, attempts: 0 },
        );
      }
    });

    test('an event whose lease ran out in the hand-off queue is left to the claims: processed once', async () => {
      const { worker } = wired('hand-4');
      const row = rowOf(chatBody({ chat_code: 'EXPIRED-LEASE' }));
      const expired = { ...row, locked_by: worker.id, locked_until: Date.now() - 1, attempts: 1 };
      await new GroupCommitter({ db: tdb.db }).storeEvent(expired);
      worker.start();
      try {
        worker.handOff([expired as EventRow]);
        await waitFor('processed', async () => (await eventRow(tdb.db.kysely, row.request_id)).status === 'PROCESSED');
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepEqual(await attemptsOf(row.request_id), [2], 'claimed again (attempt 2) and processed once');
      } finally {
        await worker.stop();
      }
    });
  });
}
