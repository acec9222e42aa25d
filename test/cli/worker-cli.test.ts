// `dealer-gateway worker` and `dealer-gateway events …`, run for real as child processes against a
// SQLite file: the worker processes what the HTTP app stored and stops cleanly on SIGTERM; the
// events commands list, show and replay with the documented exit codes and output.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { type Child, exited, isRunning, killAll, type RunResult, run as runCli, show, start } from '../helpers/cli.js';
import { acceptEvent, chatBody, eventRow, eventsFixture } from '../helpers/events.js';

const PROCESS_TIMEOUT_MS = 30_000;

describe('dealer-gateway worker and events commands [sqlite file]', () => {
  let dir: string;
  let env: Record<string, string>;
  let app: FastifyInstance;
  let processedId: string;
  let rejectedId: string;
  const processedBody = JSON.stringify(chatBody({ chat_code: 'CLI-1' }));

  const run = (args: readonly string[]) => runCli(args, env);

  /** Waits until every event is out of RECEIVED (the worker took it), or fails after PROCESS_TIMEOUT_MS. */
  async function awaitProcessed(ids: readonly string[], worker: Child): Promise<void> {
    const deadline = Date.now() + PROCESS_TIMEOUT_MS;
    for (;;) {
      const rows = await Promise.all(ids.map((id) => eventRow(app.db, id)));
      if (rows.every((r) => r.status !== 'RECEIVED')) return;
      if (!isRunning(worker)) assert.fail(`the worker exited early\n${show(await exited(worker))}`);
      if (Date.now() > deadline)
        assert.fail(`events still RECEIVED after ${PROCESS_TIMEOUT_MS} ms\n${worker.output.stdout}${worker.output.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function runWorkerUntilProcessed(ids: readonly string[]): Promise<RunResult> {
    const worker = start(['worker'], { ...env, WORKER_POLL_MS: '50' });
    try {
      await awaitProcessed(ids, worker);
    } finally {
      if (isRunning(worker)) worker.kill('SIGTERM');
    }
    return exited(worker);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dg-worker-cli-'));
    env = { DATABASE_URL: `sqlite:${join(dir, 'cli.db')}` };
    const fixture = join(dir, 'fixture.json');
    writeFileSync(fixture, JSON.stringify(eventsFixture, null, 2));
    const applied = await run(['apply', fixture]);
    assert.equal(applied.code, 0, show(applied));
    assert.match(applied.stdout, /integrations\s+7 created/);

    // The HTTP app on the same file, without its own worker: it only ingests.
    app = await buildApp(loadConfig({ ...env, LOG_LEVEL: 'silent', WORKER_ENABLED: 'false' }), { logger: false });
    processedId = await acceptEvent(app, processedBody);
    await new Promise((resolve) => setTimeout(resolve, 5)); // distinct received_at, for "newest first"
    rejectedId = await acceptEvent(app, chatBody({ chat_code: 'CLI-2', dealer_uuid: 'EXT-UNKNOWN' }));
  });

  after(async () => {
    killAll();
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('worker processes the stored events, then exits 0 on SIGTERM', async () => {
    const result = await runWorkerUntilProcessed([processedId, rejectedId]);
    assert.equal(result.code, 0, show(result));
    assert.equal(result.signal, null);
    assert.match(result.stdout, /worker started/);
    assert.match(result.stdout, /worker stopping/);
    assert.equal((await eventRow(app.db, processedId)).status, 'PROCESSED');
    const rejected = await eventRow(app.db, rejectedId);
    assert.equal(rejected.status, 'REJECTED');
    assert.match(rejected.errors, /DEALER_NOT_MAPPED/);
  });

  test('events list: every event, newest first, with status, subscriber, dealer and codes', async () => {
    const r = await run(['events', 'list']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stderr, `database: sqlite ${join(dir, 'cli.db')}\n`, 'names the database on stderr');
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.at(-1), '2 event(s)');
    const [header] = lines;
    assert.match(header ?? '', /^RECEIVED AT {2,}REQUEST ID {2,}STATUS {2,}SUBSCRIBER {2,}DEALER {2,}CODES$/);
    const processed = lines.find((l) => l.includes(processedId));
    const rejected = lines.find((l) => l.includes(rejectedId));
    assert.ok(header && processed && rejected, r.stdout);
    assert.match(processed, /^\d{4}-\d{2}-\d{2}T\S+Z {2}\S+ {2}PROCESSED {2}multi-partner {2}d-1$/);
    assert.match(rejected, / {2}REJECTED {3}multi-partner {2}- {7}DEALER_NOT_MAPPED$/);
    // Every column name starts where its values do.
    const at = (line: string, value: string) => line.indexOf(value);
    assert.equal(at(header, 'REQUEST ID'), at(processed, processedId));
    assert.equal(at(header, 'STATUS'), at(processed, 'PROCESSED'));
    assert.equal(at(header, 'STATUS'), at(rejected, 'REJECTED'));
    assert.equal(at(header, 'SUBSCRIBER'), at(processed, 'multi-partner'));
    assert.equal(at(header, 'DEALER'), at(processed, 'd-1'));
    assert.equal(at(header, 'DEALER'), at(rejected, ' - ') + 1);
    assert.equal(at(header, 'CODES'), at(rejected, 'DEALER_NOT_MAPPED'));
    assert.ok(lines.indexOf(rejected) < lines.indexOf(processed), 'newest first');
  });

  test('events list --json: one JSON array on stdout, newest first, no bodies', async () => {
    const r = await run(['events', 'list', '--json']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /^database: sqlite /);
    const listed = JSON.parse(r.stdout) as { requestId: string; status: string; rawBody: unknown; receivedAt: string }[];
    assert.ok(Array.isArray(listed));
    assert.deepEqual(
      listed.map((e) => e.requestId),
      [rejectedId, processedId],
    );
    assert.deepEqual(
      listed.map((e) => e.status),
      ['REJECTED', 'PROCESSED'],
    );
    assert.ok(listed.every((e) => e.rawBody === null && /^\d{4}-\d{2}-\d{2}T/.test(e.receivedAt)));

    const none = await run(['events', 'list', '--json', '--subscriber', 'nobody']);
    assert.equal(none.code, 0, show(none));
    assert.deepEqual(JSON.parse(none.stdout), []);
  });

  test('events show --json: one JSON object on stdout; unknown id: exit 1, stdout empty', async () => {
    const r = await run(['events', 'show', '--json', processedId]);
    assert.equal(r.code, 0, show(r));
    const shown = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(shown.requestId, processedId);
    assert.equal(shown.rawBody, processedBody);
    const unknown = await run(['events', 'show', '--json', '00000000-0000-4000-8000-000000000000']);
    assert.equal(unknown.code, 1, show(unknown));
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /no event 00000000-0000-4000-8000-000000000000/);
  });

  test('events list filters by status and limits', async () => {
    const onlyRejected = await run(['events', 'list', '--status', 'rejected']);
    assert.equal(onlyRejected.code, 0, show(onlyRejected));
    assert.ok(onlyRejected.stdout.includes(rejectedId));
    assert.ok(!onlyRejected.stdout.includes(processedId));
    assert.match(onlyRejected.stdout, /^1 event\(s\)$/m);

    const limited = await run(['events', 'list', '--limit', '1']);
    assert.equal(limited.code, 0, show(limited));
    assert.match(limited.stdout, /^1 event\(s\)$/m);

    const none = await run(['events', 'list', '--subscriber', 'nobody']);
    assert.equal(none.code, 0, show(none));
    assert.match(none.stdout, /^RECEIVED AT {2,}REQUEST ID {2,}STATUS {2,}SUBSCRIBER {2,}DEALER {2,}CODES\n0 event\(s\)\n$/);
  });

  test("events list filters by error code, dealer and words of the raw body (the admin API's filter)", async () => {
    const byCode = await run(['events', 'list', '--error-code', 'DEALER_NOT_MAPPED']);
    assert.ok(byCode.stdout.includes(rejectedId) && !byCode.stdout.includes(processedId), show(byCode));
    const byDealer = await run(['events', 'list', '--dealer', 'd-1']);
    assert.ok(byDealer.stdout.includes(processedId) && !byDealer.stdout.includes(rejectedId), show(byDealer));
    const byWords = await run(['events', 'list', '--search', 'CLI-2']);
    assert.ok(byWords.stdout.includes(rejectedId) && !byWords.stdout.includes(processedId), show(byWords));
    assert.match(byWords.stdout, /^1 event\(s\)$/m);
  });

  test('events show ID: the event as JSON, raw body included', async () => {
    const r = await run(['events', 'show', processedId]);
    assert.equal(r.code, 0, show(r));
    const shown = JSON.parse(r.stdout);
    assert.equal(shown.requestId, processedId);
    assert.equal(shown.status, 'PROCESSED');
    assert.equal(shown.subscriber, 'multi-partner');
    assert.equal(shown.dealerUuid, 'd-1');
    assert.equal(shown.rawBody, processedBody);
    assert.equal(shown.attempts, 1);
    assert.match(shown.receivedAt, /^\d{4}-\d{2}-\d{2}T/);
    assert.match(shown.processedAt, /^\d{4}-\d{2}-\d{2}T/);
  });

  test('events show with an unknown id exits 1; without an id it is a usage error (exit 2)', async () => {
    const unknown = await run(['events', 'show', '00000000-0000-4000-8000-000000000000']);
    assert.equal(unknown.code, 1, show(unknown));
    assert.match(unknown.stdout, /no event 00000000-0000-4000-8000-000000000000/);
    const missing = await run(['events', 'show']);
    assert.equal(missing.code, 2, show(missing));
    assert.equal(missing.stderr.split('\n')[0], 'dealer-gateway events: show: expected one REQUEST_ID');
  });

  test('events replay --dry-run counts the REJECTED and FAILED events and changes nothing', async () => {
    const r = await run(['events', 'replay', '--dry-run']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, '1 event(s) would be replayed\n');
    assert.equal((await eventRow(app.db, rejectedId)).status, 'REJECTED');
    assert.equal((await eventRow(app.db, processedId)).status, 'PROCESSED');

    const byId = await run(['events', 'replay', '--dry-run', '--request-id', processedId]);
    assert.equal(byId.code, 0, show(byId));
    assert.equal(byId.stdout, '1 event(s) would be replayed\n');
    assert.equal((await eventRow(app.db, processedId)).status, 'PROCESSED');
  });

  test('events replay --request-id ID puts it back in the queue; the worker processes it again', async () => {
    const r = await run(['events', 'replay', '--request-id', processedId]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, '1 event(s) replayed; the worker will process them shortly\n');
    const queued = await run(['events', 'show', processedId]);
    assert.equal(JSON.parse(queued.stdout).status, 'RECEIVED');
    assert.equal(JSON.parse(queued.stdout).attempts, 0);
    assert.equal((await eventRow(app.db, rejectedId)).status, 'REJECTED', 'only the named event');

    const result = await runWorkerUntilProcessed([processedId]);
    assert.equal(result.code, 0, show(result));
    assert.equal((await eventRow(app.db, processedId)).status, 'PROCESSED');
    const summaries = await app.db.selectFrom('chat_summaries').select('request_id').execute();
    assert.deepEqual(
      summaries.map((s) => s.request_id),
      [processedId],
    );
  });

  test('events with bad arguments exit 2: one line saying what is wrong, then the usage, on stderr', async () => {
    const cases: [string[], RegExp][] = [
      [['events'], /expected an action/],
      [['events', 'frobnicate'], /unknown action "frobnicate"/],
      [['events', 'list', '--status', 'BOGUS'], /--status: expected one of/],
      [['events', 'list', '--limit', '0'], /--limit: expected a positive whole number/],
      [['events', 'list', '--since', 'yesterday'], /--since: not a date-time: yesterday/],
      [['events', 'replay', '--no-such-flag'], /unknown option --no-such-flag$/],
      [['events', 'replay', '--json'], /--json: only for list and show/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i] ?? [[], /$/];
      const [first, blank, usage] = r.stderr.split('\n');
      assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
      assert.match(first ?? '', /^dealer-gateway events: /);
      assert.match(first ?? '', message);
      assert.equal(blank, '');
      assert.match(usage ?? '', /^Usage: dealer-gateway events /);
      assert.equal(r.stdout, '');
    });
  });

  test('worker --help exits 0 and describes the environment', async () => {
    const r = await run(['worker', '--help']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /WORKER_LEASE_MS/);
  });
});
