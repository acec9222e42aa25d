// The outbox is atomic with the outcome, on both databases: the messages an outcome owes are
// written by the statements that write the outcome, in its transaction. A commit that fails
// leaves neither the outcome nor its messages; one that succeeds leaves both. A lead save whose
// batch fails likewise leaves no lead and no message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Transact } from '../../src/db/connect.js';
import { insertEvents } from '../../src/eventlog/event.repository.js';
import { claimBatch } from '../../src/pipeline/claim.js';
import { storeOutcomes } from '../../src/pipeline/complete.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { addDestination } from '../helpers/destinations.js';
import { chatBody, eventsFixture, newEventRow } from '../helpers/events.js';

for (const dialect of testDialects()) {
  describe(`outbox atomicity [${dialect}]`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, eventsFixture);
      await addDestination(tdb.db.kysely, 'atomic', 'https://example.com/hook', {
        eventTypes: ['chat_summary.processed'],
        ordering: 'per-dealer',
      });
    });
    after(() => tdb?.destroy());

    test('a failed commit leaves neither the outcome nor its message; a good one leaves both', async () => {
      const db = tdb.db;
      const row = newEventRow('multi-partner', chatBody());
      await insertEvents(db.kysely, [row]);
      const [event] = await claimBatch(db, { workerId: 'w-atomic', now: Date.now(), limit: 1, leaseMs: 60_000 });
      assert.ok(event);
      const outcome = {
        kind: 'processed' as const,
        dealerUuid: 'd-1',
        record: { vin: 'X', event_timestamp: 1 } as never,
        vehicleUuid: null,
        customerUuid: null,
        warnings: [],
      };
      // Everything is written, then the commit fails (a full disk, a lost connection: the same rollback).
      const failingCommit: Transact = (work) =>
        db.kysely.transaction().execute(async (trx) => {
          await work(trx);
          const written = await trx.selectFrom('outbox_messages').select('id').where('source_id', '=', event.request_id).execute();
          assert.equal(written.length, 1, 'inside the transaction the message is there');
          throw new Error('the commit fails');
        });
      await assert.rejects(storeOutcomes(db.kysely, [{ event, outcome }], 'w-atomic', Date.now(), failingCommit), /the commit fails/);
      const status = async () =>
        (await db.kysely.selectFrom('events').select('status').where('request_id', '=', event.request_id).executeTakeFirstOrThrow()).status;
      const messages = () => db.kysely.selectFrom('outbox_messages').select('id').where('source_id', '=', event.request_id).execute();
      const summaries = () =>
        db.kysely.selectFrom('chat_summaries').select('request_id').where('request_id', '=', event.request_id).execute();
      assert.equal(await status(), 'RECEIVED', 'no outcome');
      assert.deepEqual(await messages(), [], 'no message');
      assert.deepEqual(await summaries(), [], 'no summary');

      await storeOutcomes(db.kysely, [{ event, outcome }], 'w-atomic', Date.now());
      assert.equal(await status(), 'PROCESSED');
      assert.equal((await messages()).length, 1);
      assert.equal((await summaries()).length, 1);
    });
  });
}
