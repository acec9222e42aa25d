// A replay wakes the in-process worker as a newly stored event does: with the poll set to a
// minute, a replayed REJECTED event is processed within moments, not at the next poll. On both
// databases, with writes on the storage thread (the service) and inline (tests, tools). Other
// processes' workers are woken through PostgreSQL NOTIFY: test/cli/worker-notify.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { acceptEvent, chatBody, EVENT_TYPE, eventRow, eventsFixture } from '../helpers/events.js';
import { waitFor } from '../helpers/suite.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
/** The worker's idle poll: a replay that waited for it would take a minute. */
const POLL_MS = 60_000;
/** Well under the poll: what a woken worker needs to claim and process an event, with room to spare. */
const WOKEN_WITHIN_MS = 5_000;

for (const dialect of testDialects()) {
  for (const storage of ['thread', 'inline'] as const) {
    describe(`a replay wakes the in-process worker [${dialect}, ${storage} storage]`, () => {
      let tdb: TestDatabase;
      let app: FastifyInstance;
      before(async () => {
        tdb = await createTestDatabase(dialect, { WORKER_ENABLED: 'true', WORKER_POLL_MS: String(POLL_MS), ADMIN_TOKEN: TOKEN });
        await applyProvisioning(tdb.db.kysely, eventsFixture);
        app = await buildApp(tdb.config, { db: tdb.db, logger: false, storage });
      });
      after(async () => {
        await app?.close();
        await tdb?.destroy();
      });

      const statusOf = async (id: string) => (await eventRow(tdb.db.kysely, id)).status;

      /** Events of `switch` for a partner dealer id it does not map yet: the worker (woken by the gate) rejects them. */
      async function rejectedEvents(partnerDealer: string, count: number): Promise<string[]> {
        const ids: string[] = [];
        for (let i = 0; i < count; i++) {
          ids.push(
            await acceptEvent(app, chatBody({ chat_code: `${partnerDealer}-${i}`, dealer_uuid: partnerDealer }), { username: 'switch' }),
          );
        }
        for (const id of ids) await waitFor(`event ${id} REJECTED`, async () => (await statusOf(id)) === 'REJECTED');
        // The operator fixes the mapping; meanwhile the worker has gone to sleep for its poll.
        await applyProvisioning(tdb.db.kysely, {
          integrations: [{ subscriber: 'switch', eventType: EVENT_TYPE, dealerMap: { [partnerDealer]: 'd-1' } }],
        });
        await app.directory.refresh();
        await new Promise((resolve) => setTimeout(resolve, 300));
        return ids;
      }

      /** Waits until every one of `ids` is PROCESSED, at most WOKEN_WITHIN_MS after `started`; returns how long it took. */
      async function processedSoon(ids: readonly string[], started: number): Promise<number> {
        for (const id of ids) {
          await waitFor(
            `replayed event ${id} PROCESSED within ${WOKEN_WITHIN_MS} ms (the poll is ${POLL_MS} ms)`,
            async () => (await statusOf(id)) === 'PROCESSED',
            WOKEN_WITHIN_MS - (Date.now() - started),
            5,
          );
        }
        return Date.now() - started;
      }

      test('POST /admin/v1/events/{requestId}/replay: processed at once, not at the next poll', async (t) => {
        const [id] = await rejectedEvents('WAKE-ONE', 1);
        const started = Date.now();
        const res = await app.inject({
          method: 'POST',
          url: `/admin/v1/events/${id}/replay`,
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        assert.equal(res.statusCode, 200, res.body);
        t.diagnostic(`processed ${await processedSoon([id as string], started)} ms after the replay was asked for`);
      });

      test('POST /admin/v1/replays (a job): every replayed event processed at once, not at the next poll', async (t) => {
        const ids = await rejectedEvents('WAKE-JOB', 3);
        const started = Date.now();
        const res = await app.inject({
          method: 'POST',
          url: '/admin/v1/replays',
          headers: { authorization: `Bearer ${TOKEN}` },
          payload: { filter: { subscriber: 'switch', status: 'REJECTED' } },
        });
        assert.equal(res.statusCode, 202, res.body);
        t.diagnostic(`all processed ${await processedSoon(ids, started)} ms after the job was asked for`);
      });
    });
  }
}
