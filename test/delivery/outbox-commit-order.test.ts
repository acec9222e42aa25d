// Per-dealer messages get their sequence numbers in commit order on PostgreSQL too, where several
// processes commit outcomes at once: a transaction enqueueing for a dealer waits while another
// one holding messages of that dealer is open (outbox.write.ts, dialect.ts), so a sender can never
// see a later message of a dealer committed before an earlier one. Other dealers do not wait.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Outbound } from '../../src/outbox/outbound-types.js';
import { enqueueMessages } from '../../src/outbox/outbox.write.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { addDestination } from '../helpers/destinations.js';

const outbound = (dealer: string, n: number): Outbound => ({
  type: 'chat_summary.processed',
  dealerUuid: dealer,
  sourceId: `${dealer}-${n}`,
  data: { n },
});

if (testDialects().includes('postgres')) {
  describe('outbox commit order [postgres]', () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase('postgres');
      await addDestination(tdb.db.kysely, 'ordered', 'https://example.com/hook', {
        eventTypes: ['chat_summary.processed'],
        ordering: 'per-dealer',
      });
    });
    after(() => tdb?.destroy());

    test('a second transaction for the same dealer waits for the first to commit; another dealer does not', async () => {
      const second = tdb.connectAgain();
      const third = tdb.connectAgain();
      const events: string[] = [];
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const first = tdb.db.kysely.transaction().execute(async (trx) => {
        await enqueueMessages(trx, [outbound('A', 1)], Date.now());
        events.push('first enqueued');
        await held;
        events.push('first commits');
      });
      await sleep(100);
      const sameDealer = second.kysely.transaction().execute(async (trx) => {
        await enqueueMessages(trx, [outbound('A', 2)], Date.now());
        events.push('second enqueued');
      });
      const otherDealer = third.kysely.transaction().execute(async (trx) => {
        await enqueueMessages(trx, [outbound('B', 1)], Date.now());
        events.push('other dealer enqueued');
      });
      await otherDealer;
      await sleep(200);
      assert.deepEqual(events, ['first enqueued', 'other dealer enqueued'], 'the same dealer waits, another does not');
      release();
      await Promise.all([first, sameDealer]);
      assert.deepEqual(events.slice(2), ['first commits', 'second enqueued']);
      const rows = await tdb.db.kysely
        .selectFrom('outbox_messages')
        .select(['source_id', 'seq'])
        .where('ordering_key', '=', 'A')
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        rows.map((r) => r.source_id),
        ['A-1', 'A-2'],
      );
      await second.close();
      await third.close();
    });
  });
}
