// On PostgreSQL a separate `dealer-gateway worker` is woken by LISTEN/NOTIFY when the gate
// commits events, and when events are replayed (through another process's admin API or the
// CLI): it processes them at once, not at its next poll (set to a minute here).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { type Child, exited, isRunning, run, show, start } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { acceptEvent, chatBody, EVENT_TYPE, eventRow, eventsFixture } from '../helpers/events.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
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
    tdb = await createTestDatabase('postgres', { ADMIN_TOKEN: TOKEN });
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

  /** Events of `switch` the worker rejects (its dealer id is not mapped), then the mapping fixed and the worker asleep. */
  async function rejected(partnerDealer: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(
        await acceptEvent(app, chatBody({ chat_code: `${partnerDealer}-${i}`, dealer_uuid: partnerDealer }), { username: 'switch' }),
      );
    }
    for (const id of ids) {
      await until(`event ${id} REJECTED`, async () => (await eventRow(tdb.db.kysely, id)).status === 'REJECTED', worker, 10_000);
    }
    await applyProvisioning(tdb.db.kysely, {
      integrations: [{ subscriber: 'switch', eventType: EVENT_TYPE, dealerMap: { [partnerDealer]: 'd-1' } }],
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return ids;
  }

  const processed = async (ids: readonly string[]) => {
    for (const id of ids) {
      await until(`replayed event ${id} PROCESSED`, async () => (await eventRow(tdb.db.kysely, id)).status === 'PROCESSED', worker, 10_000);
    }
  };

  test("a replay through another app's admin API wakes the worker: one event, and a replay job", async () => {
    const [one] = await rejected('NOTIFY-ONE', 1);
    const res = await app.inject({ method: 'POST', url: `/admin/v1/events/${one}/replay`, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200, res.body);
    await processed([one as string]);

    const many = await rejected('NOTIFY-JOB', 3);
    const job = await app.inject({
      method: 'POST',
      url: '/admin/v1/replays',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { filter: { subscriber: 'switch', status: 'REJECTED' } },
    });
    assert.equal(job.statusCode, 202, job.body);
    await processed(many);
  });

  test('dealer-gateway events replay wakes the worker', async () => {
    const ids = await rejected('NOTIFY-CLI', 2);
    const r = await run(['events', 'replay', '--subscriber', 'switch'], { DATABASE_URL: tdb.url });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^2 event\(s\) replayed/m);
    await processed(ids);
  });
});
