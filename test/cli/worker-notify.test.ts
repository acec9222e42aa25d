// On PostgreSQL a separate `dealer-gateway worker` is woken by LISTEN/NOTIFY when the gate
// commits events: it processes them at once, not at its next poll (set to a minute here).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { type Child, exited, isRunning, show, start } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { acceptEvent, chatBody, eventRow, eventsFixture } from '../helpers/events.js';

const skip = testDialects().includes('postgres') ? false : 'LISTEN/NOTIFY is PostgreSQL only (TEST_DIALECTS has no postgres)';

async function until(what: string, check: () => Promise<boolean>, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (!isRunning(child)) assert.fail(`the worker exited early\n${show(await exited(child))}`);
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms\n${child.output.stdout}${child.output.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('dealer-gateway worker is woken by NOTIFY [postgres]', { skip }, () => {
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let worker: Child;
  before(async () => {
    tdb = await createTestDatabase('postgres');
    await applyProvisioning(tdb.db.kysely, eventsFixture);
    app = await buildApp(tdb.config, { db: tdb.db, logger: false });
    worker = start(['worker'], { DATABASE_URL: tdb.url, WORKER_POLL_MS: '60000', LOG_LEVEL: 'info' });
    await until('worker started', async () => worker.output.stdout.includes('worker started'), worker, 30_000);
  });
  after(async () => {
    if (worker && isRunning(worker)) {
      worker.kill('SIGTERM');
      await exited(worker);
    }
    await app?.close();
    await tdb?.destroy();
  });

  test('events stored after the worker went idle are processed within seconds, not at the minute poll', async () => {
    // Let the worker finish its first (empty) claim and go to sleep for its 60 s poll.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (let round = 0; round < 3; round++) {
      const id = await acceptEvent(app, chatBody({ chat_code: `NOTIFY-${round}` }));
      await until(`event ${id} PROCESSED`, async () => (await eventRow(tdb.db.kysely, id)).status === 'PROCESSED', worker, 10_000);
    }
  });
});
