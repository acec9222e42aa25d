// The evaluation thread gives the same outcomes as evaluating on the worker's own thread, and a
// worker using it processes a batch end to end (both databases).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { SubscriberDirectory } from '../../src/auth/directory.js';
import type { EventRow } from '../../src/db/schema.js';
import { inlineAssessor, ThreadAssessor } from '../../src/pipeline/assessor.js';
import { Worker } from '../../src/pipeline/worker.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { acceptEvent, chatBody, eventRow, eventsFixture, silentLog, transformerBody } from '../helpers/events.js';

for (const dialect of testDialects()) {
  describe(`evaluation thread [${dialect}]`, () => {
    let tdb: TestDatabase;
    let app: FastifyInstance;
    let ids: string[];
    before(async () => {
      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, eventsFixture);
      app = await buildApp(tdb.config, { db: tdb.db, logger: false });
      ids = [
        await acceptEvent(app, chatBody({ chat_code: 'A-1' })),
        await acceptEvent(app, chatBody({ chat_code: 'A-2', dealer_uuid: 'EXT-UNKNOWN' })),
        await acceptEvent(app, transformerBody(), { username: 'transformer' }),
        await acceptEvent(app, transformerBody({ chat: { summary: 'no code' } }), { username: 'transformer' }),
      ];
    });
    after(async () => {
      await app?.close();
      await tdb?.destroy();
    });

    test('assessments from the thread equal those made inline, errors included', async () => {
      const rows = await Promise.all(ids.map((id) => eventRow(tdb.db.kysely, id)));
      const directory = new SubscriberDirectory(tdb.db.kysely);
      await directory.refresh(true);
      const inline = await inlineAssessor(tdb.db.kysely, directory, 4).assess(rows);
      const threaded = await ThreadAssessor.start({ database: tdb.config.database }, silentLog);
      try {
        const fromThread = await threaded.assess(rows);
        assert.deepEqual(fromThread, inline);
        assert.deepEqual(
          fromThread.map((a) => (a.ok ? a.result.kind : 'error')),
          ['assessed', 'rejected', 'assessed', 'rejected'],
        );
      } finally {
        await threaded.close();
      }
    });

    test('a worker with the evaluation thread processes the batch and stores every outcome', async () => {
      const directory = new SubscriberDirectory(tdb.db.kysely);
      await directory.refresh(true);
      const assessor = await ThreadAssessor.start({ database: tdb.config.database }, silentLog);
      const worker = new Worker({ db: tdb.db, directory, log: silentLog, config: tdb.config.worker, assessor });
      try {
        const report = await worker.runOnce();
        assert.deepEqual(
          { processed: report.processed, rejected: report.rejected, retried: report.retried },
          { processed: 2, rejected: 2, retried: 0 },
        );
      } finally {
        await worker.stop();
      }
      const statuses = await Promise.all(ids.map(async (id) => ((await eventRow(tdb.db.kysely, id)) as EventRow).status));
      assert.deepEqual(statuses, ['PROCESSED', 'REJECTED', 'PROCESSED', 'REJECTED']);
    });

    test('a closed evaluation thread refuses work with a transient error (its events are retried)', async () => {
      const assessor = await ThreadAssessor.start({ database: tdb.config.database }, silentLog);
      await assessor.close();
      await assert.rejects(assessor.assess([]), (err: Error & { transient?: boolean }) => err.transient === true);
    });
  });
}
