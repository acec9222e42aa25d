// Database faults under load, with a real `dealer-gateway serve` process (default configuration:
// in-process worker in the storage thread):
//
// - PostgreSQL stopped (`pg_ctl stop -m immediate`) in the middle of load, on a private cluster
//   this test starts (never the shared server on 5432): the gate and the leads endpoint answer
//   503 fast with their envelopes and Retry-After, /readyz answers 503, nothing hangs, no 200 is
//   given while the database is down; PostgreSQL starts again and the service recovers by itself,
//   the worker drains everything acknowledged, and the lost connections are in the log.
// - SQLite on a full disk (a small tmpfs filled to ENOSPC): 503s, the process stays up; the disk
//   is freed and the service recovers by itself; everything acknowledged is PROCESSED.
// - SQLite database made read-only in place (`chattr +i` on the database and its WAL: as root,
//   permissions stop nothing, and Linux refuses to remount a filesystem read-only while a file
//   on it is open for writing): 503s, never a 200, the process stays up; writable again, it
//   recovers by itself.
//
// Each scenario needs root (and mount, chattr, the PostgreSQL binaries); where the machine does
// not allow the fault, the test is skipped with the reason. Only the "answers fast" checks look
// at time, with generous bounds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { BENCH_AUTH, GATE_PATH, gateBody, LEADS_PATH, leadBody, provisioning } from '../../bench/fixture.js';
import { loadConfig } from '../../src/config.js';
import { connect } from '../../src/db/connect.js';
import { type Child, freePort, isRunning, killAll, run, show, start } from '../helpers/cli.js';
import { testDialects } from '../helpers/databases.js';

const run$ = promisify(execFile);
const HOST = '127.0.0.1';
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
/** "Answers fast": a refusal while the database is down must not take longer than this. */
const FAST_MS = 2_000;
const REQUEST_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 60_000;
const RECOVERY_TIMEOUT_MS = 30_000;
/** The worker backs off up to 30 s after database errors, and claims held at the fault last a lease. */
const DRAIN_TIMEOUT_MS = 90_000;
const LEASE_MS = 2_000;
const isRoot = process.getuid?.() === 0;

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  killAll();
  await sleep(200); // Let the killed processes let go of their files before unmounting.
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      process.stderr.write(`cleanup failed: ${(err as Error).message}\n`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// HTTP and load.

interface Outcome {
  readonly kind: 'event' | 'lead' | 'readyz';
  readonly start: number;
  readonly end: number;
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | undefined;
  /** Set when no answer came (connection error or timeout). */
  readonly error?: string;
}

function send(port: number, agent: http.Agent | false, kind: Outcome['kind'], i: number): Promise<Outcome> {
  const begin = Date.now();
  const [method, path, body] =
    kind === 'event'
      ? ['POST', GATE_PATH, gateBody(i)]
      : kind === 'lead'
        ? ['POST', LEADS_PATH, leadBody(i)]
        : ['GET', '/readyz', undefined];
  return new Promise((resolve) => {
    const headers: Record<string, string> = { authorization: BENCH_AUTH };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req = http.request({ host: HOST, port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          kind,
          start: begin,
          end: Date.now(),
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          retryAfter: res.headers['retry-after'] as string | undefined,
        }),
      );
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err) =>
      resolve({ kind, start: begin, end: Date.now(), status: 0, body: '', retryAfter: undefined, error: err.message }),
    );
    req.end(body);
  });
}

let sequence = 0;

interface Load {
  readonly outcomes: Outcome[];
  stop(): Promise<void>;
}

/** `events` + `leads` clients, each on its own keep-alive connection, sending until stopped. */
function startLoad(port: number, events: number, leads: number): Load {
  const outcomes: Outcome[] = [];
  let stopped = false;
  const agents: http.Agent[] = [];
  const lane = async (kind: 'event' | 'lead') => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    while (!stopped) {
      const outcome = await send(port, agent, kind, sequence++);
      outcomes.push(outcome);
      if (outcome.status !== 200) await sleep(25); // Refusals are fast: do not spin.
    }
  };
  const lanes = [...Array.from({ length: events }, () => lane('event')), ...Array.from({ length: leads }, () => lane('lead'))];
  return {
    outcomes,
    async stop() {
      stopped = true;
      await Promise.all(lanes);
      for (const agent of agents) agent.destroy();
    },
  };
}

const describe = (o: Outcome) =>
  `${o.kind} ${o.error ?? o.status} after ${o.end - o.start} ms (retry-after ${o.retryAfter ?? '-'}): ${o.body.slice(0, 300)}`;

/** A refusal because the database cannot take the write: 503, the route's envelope, Retry-After. */
function assertUnavailable(o: Outcome, fastMs = FAST_MS): void {
  assert.equal(o.error, undefined, `no answer: ${describe(o)}`);
  assert.equal(o.status, 503, describe(o));
  assert.ok(o.retryAfter !== undefined && /^\d+$/.test(o.retryAfter), `Retry-After: ${describe(o)}`);
  assert.ok(o.end - o.start < fastMs, `answered in ${o.end - o.start} ms, more than ${fastMs}: ${describe(o)}`);
  const body = JSON.parse(o.body) as Record<string, unknown>;
  if (o.kind === 'event') {
    assert.deepEqual(body.warnings, [], describe(o));
    assert.equal(body.requestId, null, describe(o));
    const errors = body.errors as { errorCode: string }[];
    assert.equal(errors.length, 1, describe(o));
    assert.equal(errors[0]?.errorCode, 'SERVICE_UNAVAILABLE', describe(o));
  } else if (o.kind === 'lead') {
    assert.equal((body.error as { errorCode: string }).errorCode, 'SERVICE_UNAVAILABLE', describe(o));
    assert.equal(body.statusCode, 503, describe(o));
    assert.equal(body.prospectUuid, null, describe(o));
    assert.equal(body.isNewCreated, null, describe(o));
  } else {
    assert.equal((body.error as { code: string }).code, 'SERVICE_UNAVAILABLE', describe(o));
  }
}

/** Every answer given: 200, or a well-formed 503. Never a 500, a hang or a dropped connection. */
function assertOnly200Or503(outcomes: readonly Outcome[], fastMs = FAST_MS): void {
  for (const o of outcomes) if (o.status !== 200) assertUnavailable(o, fastMs);
}

async function waitReady(child: Child, port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isRunning(child)) throw new Error(`serve exited before /readyz answered 200\n${tail(child)}`);
    if ((await send(port, false, 'readyz', 0)).status === 200) return;
    await sleep(100);
  }
  throw new Error(`GET /readyz did not answer 200 within ${START_TIMEOUT_MS} ms\n${tail(child)}`);
}

/** Sends events until one is acknowledged (the service recovered by itself); returns that time. */
async function waitRecovered(child: Child, port: number, acks: string[]): Promise<number> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  let last: Outcome | undefined;
  while (Date.now() < deadline) {
    assert.ok(isRunning(child), `serve exited during the fault\n${tail(child)}`);
    last = await send(port, false, 'event', sequence++);
    if (last.status === 200) {
      acks.push((JSON.parse(last.body) as { requestId: string }).requestId);
      return Date.now();
    }
    assertUnavailable(last, REQUEST_TIMEOUT_MS);
    await sleep(250);
  }
  throw new Error(
    `no event acknowledged within ${RECOVERY_TIMEOUT_MS} ms of the fault's end; last: ${last && describe(last)}\n${tail(child)}`,
  );
}

const tail = (child: Child) => {
  const lines = `${child.output.stdout}${child.output.stderr}`.split('\n').filter((l) => l !== '');
  return lines.slice(-30).join('\n');
};

const ackedEvents = (outcomes: readonly Outcome[]) =>
  outcomes.filter((o) => o.kind === 'event' && o.status === 200).map((o) => (JSON.parse(o.body) as { requestId: string }).requestId);
const ackedLeads = (outcomes: readonly Outcome[]) =>
  outcomes.filter((o) => o.kind === 'lead' && o.status === 200).map((o) => (JSON.parse(o.body) as { prospectUuid: string }).prospectUuid);

interface Verdict {
  readonly received: number;
  readonly notProcessed: string[];
  readonly missingLeads: string[];
  readonly half: number;
}

/** Waits until nothing is RECEIVED, then checks every acknowledged event and lead is there. */
async function drainAndVerify(
  child: Child,
  query: (text: string) => Promise<Record<string, unknown>[]>,
  events: readonly string[],
  leads: readonly string[],
): Promise<Verdict> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const rows = await query(`SELECT count(*) AS n FROM events WHERE status = 'RECEIVED'`);
    const received = Number(rows[0]?.n ?? 0);
    if (received === 0) break;
    assert.ok(isRunning(child), `serve exited with ${received} events RECEIVED\n${tail(child)}`);
    if (Date.now() > deadline) assert.fail(`${received} events still RECEIVED after ${DRAIN_TIMEOUT_MS} ms\n${tail(child)}`);
    await sleep(250);
  }
  const rows = await query(
    `SELECT e.request_id, e.status, (SELECT count(*) FROM chat_summaries s WHERE s.request_id = e.request_id) AS summaries FROM events e`,
  );
  const byId = new Map(rows.map((r) => [String(r.request_id), r]));
  const notProcessed = events.filter((id) => {
    const r = byId.get(id);
    return r === undefined || r.status !== 'PROCESSED' || Number(r.summaries) !== 1;
  });
  const leadRows = await query('SELECT prospect_uuid FROM leads');
  const leadIds = new Set(leadRows.map((r) => String(r.prospect_uuid)));
  const missingLeads = [...new Set(leads)].filter((id) => !leadIds.has(id));
  const half = await query(
    `SELECT count(*) AS n FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_bodies b WHERE b.request_id = e.request_id)`,
  );
  return { received: 0, notProcessed, missingLeads, half: Number(half[0]?.n ?? 0) };
}

/** Writes the bench provisioning to `dir` and applies it with `dealer-gateway apply` (it migrates first). */
async function provision(dir: string, url: string): Promise<void> {
  const file = join(dir, 'provisioning.json');
  writeFileSync(file, JSON.stringify(provisioning));
  const applied = await run(['apply', file], { DATABASE_URL: url, LOG_LEVEL: 'warn' });
  assert.equal(applied.code, 0, show(applied));
}

const count = (outcomes: readonly Outcome[], status: number) => outcomes.filter((o) => o.status === status).length;

// ---------------------------------------------------------------------------------------------
// PostgreSQL stopped in the middle of load.

function postgresSkipReason(): string | undefined {
  if (!testDialects().includes('postgres')) return 'TEST_DIALECTS does not include postgres';
  if (!isRoot) return 'needs root: the private PostgreSQL cluster is started with runuser -u postgres';
  for (const bin of ['initdb', 'pg_ctl']) {
    if (!existsSync(join(PG_BIN, bin))) return `${join(PG_BIN, bin)} not found (set PG_BIN to PostgreSQL's bin directory)`;
  }
  return undefined;
}

test('db-faults [postgres]: the server stops under load, then comes back', { timeout: 240_000 }, async (t: TestContext) => {
  const skip = postgresSkipReason();
  if (skip) {
    t.skip(skip);
    return;
  }
  const asPostgres = (bin: string, args: string[]) =>
    run$('runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args], { timeout: 120_000 });
  try {
    await run$('id', ['-u', 'postgres']);
  } catch {
    t.skip('no "postgres" OS user to run the private cluster as');
    return;
  }

  // A private cluster: the shared server on 5432 serves other test files meanwhile.
  const dir = mkdtempSync(join(tmpdir(), 'dg-pg-fault-'));
  const data = join(dir, 'data');
  await run$('chown', ['postgres:postgres', dir]);
  cleanups.push(async () => {
    await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const pgPort = await freePort();
  const startPostgres = () =>
    asPostgres('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'postgres.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${pgPort} -k ${dir} -c listen_addresses=${HOST}`,
      'start',
    ]);
  await startPostgres();
  const admin = new pg.Client({ connectionString: `postgres://postgres@${HOST}:${pgPort}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE dg');
  await admin.end();
  const url = `postgres://postgres@${HOST}:${pgPort}/dg`;
  await provision(dir, url);

  const port = await freePort();
  const serve = start(['serve'], { DATABASE_URL: url, PORT: String(port), HOST, LOG_LEVEL: 'warn', WORKER_LEASE_MS: String(LEASE_MS) });
  await waitReady(serve, port);

  const load = startLoad(port, 12, 4);
  await sleep(2_000);
  const stopAt = Date.now();
  await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  const downAt = Date.now();
  // The same questions asked one at a time, on fresh connections, while the database is down.
  const probes: Outcome[] = [];
  await sleep(300);
  for (let i = 0; i < 3; i++) {
    for (const kind of ['event', 'lead', 'readyz'] as const) probes.push(await send(port, false, kind, sequence++));
    await sleep(700);
  }
  await sleep(1_500);
  const upAt = Date.now();
  await startPostgres();
  const pgReadyAt = Date.now();
  const recoveryAcks: string[] = [];
  const recoveredAt = await waitRecovered(serve, port, recoveryAcks);
  await sleep(2_000);
  await load.stop();
  const outcomes = load.outcomes;

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let verdict: Verdict;
  try {
    verdict = await drainAndVerify(
      serve,
      async (text) => (await client.query(text)).rows,
      [...ackedEvents(outcomes), ...recoveryAcks],
      ackedLeads(outcomes),
    );
  } finally {
    await client.end();
  }

  const before = outcomes.filter((o) => o.end < stopAt);
  const whileDown = outcomes.filter((o) => o.start >= downAt && o.end <= upAt);
  const afterRecovery = outcomes.filter((o) => o.start >= recoveredAt + 1_000);
  const lostLines = serve.output.stdout.split('\n').filter((l) => l.includes('PostgreSQL connection lost while idle'));
  const summary =
    `db-faults [postgres]: before the stop ${count(before, 200)}/${before.length} acknowledged; while down ${whileDown.length} answers, ` +
    `${count(whileDown, 503)} 503 (slowest ${Math.max(0, ...whileDown.map((o) => o.end - o.start))} ms), ${count(whileDown, 200)} 200; ` +
    `PostgreSQL up again ${pgReadyAt - upAt} ms after pg_ctl start, service recovered ${recoveredAt - pgReadyAt} ms later; ` +
    `after recovery ${count(afterRecovery, 200)}/${afterRecovery.length} acknowledged; ` +
    `${ackedEvents(outcomes).length + recoveryAcks.length} events acknowledged, ${verdict.notProcessed.length} not PROCESSED; ` +
    `${ackedLeads(outcomes).length} leads saved; ${lostLines.length} "connection lost while idle" log lines`;
  t.diagnostic(summary);

  assert.ok(isRunning(serve), `serve exited\n${tail(serve)}`);
  assert.equal(
    count(before, 200),
    before.length,
    `refusals before the stop: ${before
      .filter((o) => o.status !== 200)
      .map(describe)
      .join('\n')}`,
  );
  for (const probe of probes) assertUnavailable(probe);
  assert.ok(whileDown.length > 0, 'the load ran while the database was down');
  for (const o of whileDown) assertUnavailable(o);
  assertOnly200Or503(outcomes, REQUEST_TIMEOUT_MS);
  assert.ok(afterRecovery.length > 0 && count(afterRecovery, 200) === afterRecovery.length, `after recovery: ${summary}`);
  assert.deepEqual(verdict.notProcessed, [], summary);
  assert.deepEqual(verdict.missingLeads, [], summary);
  assert.equal(verdict.half, 0, 'events without their body');
  // The storage thread must ride out the outage, not die and be restarted (with backoff) by it.
  const threadDeaths = serve.output.stdout.split('\n').filter((l) => /"msg":"storage thread (failed|exited)/.test(l));
  assert.deepEqual(threadDeaths, [], 'the storage thread died during the outage');
  assert.ok(lostLines.length > 0, `no "connection lost while idle" line in the log\n${tail(serve)}`);
  for (const line of lostLines) assert.ok((JSON.parse(line) as { level: number }).level >= 40, line);
});

// ---------------------------------------------------------------------------------------------
// SQLite: a full disk, a read-only database.

const sqliteSkipReason = () => (!testDialects().includes('sqlite') ? 'TEST_DIALECTS does not include sqlite' : undefined);

function sqliteQuery(path: string) {
  const db = connect(loadConfig({ DATABASE_URL: `sqlite:${path}`, LOG_LEVEL: 'silent' }).database);
  cleanups.push(() => db.close());
  return {
    db,
    query: async (text: string) => {
      const { sql } = await import('kysely');
      return (await sql.raw<Record<string, unknown>>(text).execute(db.kysely)).rows;
    },
  };
}

/** Writes to `path` until the filesystem is full; returns the bytes written. */
function fillDisk(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

test('db-faults [sqlite]: the disk fills up under load, then space comes back', { timeout: 240_000 }, async (t: TestContext) => {
  const skip = sqliteSkipReason() ?? (isRoot ? undefined : 'needs root to mount a small tmpfs');
  if (skip) {
    t.skip(skip);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dg-full-'));
  try {
    await run$('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', dir]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    t.skip(`mount -t tmpfs is not permitted here: ${(err as Error).message.split('\n')[0]}`);
    return;
  }
  cleanups.push(async () => {
    await run$('umount', [dir]).catch(() => run$('umount', ['-l', dir]));
    rmSync(dir, { recursive: true, force: true });
  });
  const dbPath = join(dir, 'dg.db');
  const url = `sqlite:${dbPath}`;
  await provision(dir, url);
  const port = await freePort();
  const serve = start(['serve'], { DATABASE_URL: url, PORT: String(port), HOST, LOG_LEVEL: 'warn', WORKER_LEASE_MS: String(LEASE_MS) });
  await waitReady(serve, port);

  const load = startLoad(port, 12, 4);
  await sleep(1_000);
  const filler = join(dir, 'filler');
  const fillerBytes = fillDisk(filler);
  const fullAt = Date.now();
  // Commits may still fit for a while (a WAL reuses its space after a checkpoint); the load goes
  // on until the database has had to grow and refused writes for a few seconds.
  const deadline = Date.now() + 30_000;
  let firstRefusalAt: number | undefined;
  while (Date.now() < deadline) {
    await sleep(250);
    assert.ok(isRunning(serve), `serve exited on a full disk\n${tail(serve)}`);
    firstRefusalAt ??= load.outcomes.find((o) => o.start >= fullAt && o.status === 503)?.start;
    if (firstRefusalAt !== undefined && Date.now() - firstRefusalAt > 3_000) break;
  }
  const readyWhileFull = await send(port, false, 'readyz', 0);
  unlinkSync(filler);
  const freedAt = Date.now();
  const recoveryAcks: string[] = [];
  const recoveredAt = await waitRecovered(serve, port, recoveryAcks);
  await sleep(2_000);
  await load.stop();
  const outcomes = load.outcomes;

  const { query } = sqliteQuery(dbPath);
  const verdict = await drainAndVerify(serve, query, [...ackedEvents(outcomes), ...recoveryAcks], ackedLeads(outcomes));
  const whileFull = outcomes.filter((o) => o.start >= fullAt && o.end <= freedAt);
  const afterRecovery = outcomes.filter((o) => o.start >= recoveredAt + 1_000);
  const summary =
    `db-faults [sqlite, full disk]: filler ${(fillerBytes / 1048576).toFixed(1)} MB; while full ${whileFull.length} answers, ` +
    `${count(whileFull, 200)} 200 (fitted before the database had to grow), ${count(whileFull, 503)} 503 ` +
    `(first ${firstRefusalAt === undefined ? 'never' : `${firstRefusalAt - fullAt} ms`} after the disk filled, slowest ${Math.max(0, ...whileFull.filter((o) => o.status === 503).map((o) => o.end - o.start))} ms); ` +
    `/readyz while full ${readyWhileFull.status}; recovered ${recoveredAt - freedAt} ms after the filler was deleted; ` +
    `after recovery ${count(afterRecovery, 200)}/${afterRecovery.length} acknowledged; ` +
    `${ackedEvents(outcomes).length + recoveryAcks.length} events acknowledged, ${verdict.notProcessed.length} not PROCESSED; ${ackedLeads(outcomes).length} leads saved`;
  t.diagnostic(summary);

  assert.ok(isRunning(serve), `serve exited\n${tail(serve)}`);
  assert.ok(firstRefusalAt !== undefined, `the full disk never refused a write: ${summary}`);
  assertOnly200Or503(outcomes, REQUEST_TIMEOUT_MS);
  assert.ok(afterRecovery.length > 0 && count(afterRecovery, 200) === afterRecovery.length, `after recovery: ${summary}`);
  assert.deepEqual(verdict.notProcessed, [], summary);
  assert.deepEqual(verdict.missingLeads, [], summary);
  assert.equal(verdict.half, 0, 'events without their body');
});

test('db-faults [sqlite]: the database becomes read-only under load, then writable again', { timeout: 240_000 }, async (t: TestContext) => {
  const skip = sqliteSkipReason() ?? (isRoot ? undefined : 'needs root to make a file immutable (chattr +i)');
  if (skip) {
    t.skip(skip);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dg-readonly-'));
  const probe = join(dir, 'probe');
  writeFileSync(probe, 'x');
  try {
    await run$('chattr', ['+i', probe]);
    await run$('chattr', ['-i', probe]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    t.skip(`chattr +i does not work in ${tmpdir()} (a filesystem without immutable files?): ${(err as Error).message.split('\n')[0]}`);
    return;
  }
  const dbPath = join(dir, 'dg.db');
  const files = [dbPath, `${dbPath}-wal`];
  cleanups.push(async () => {
    await run$('chattr', ['-i', ...files]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `sqlite:${dbPath}`;
  await provision(dir, url);
  const port = await freePort();
  const serve = start(['serve'], { DATABASE_URL: url, PORT: String(port), HOST, LOG_LEVEL: 'warn', WORKER_LEASE_MS: String(LEASE_MS) });
  await waitReady(serve, port);

  const load = startLoad(port, 12, 4);
  await sleep(1_500);
  assert.ok(existsSync(`${dbPath}-wal`), 'the database has a WAL');
  const lockAt = Date.now();
  await run$('chattr', ['+i', ...files]);
  const lockedAt = Date.now();
  await sleep(4_000);
  assert.ok(isRunning(serve), `serve exited on a read-only database\n${tail(serve)}`);
  const probes: Outcome[] = [];
  for (const kind of ['event', 'lead'] as const) probes.push(await send(port, false, kind, sequence++));
  const readyWhileReadOnly = await send(port, false, 'readyz', 0);
  const unlockAt = Date.now();
  await run$('chattr', ['-i', ...files]);
  const writableAt = Date.now();
  const recoveryAcks: string[] = [];
  const recoveredAt = await waitRecovered(serve, port, recoveryAcks);
  await sleep(2_000);
  await load.stop();
  const outcomes = load.outcomes;

  const { query } = sqliteQuery(dbPath);
  const verdict = await drainAndVerify(serve, query, [...ackedEvents(outcomes), ...recoveryAcks], ackedLeads(outcomes));
  const before = outcomes.filter((o) => o.end < lockAt);
  const whileReadOnly = outcomes.filter((o) => o.start >= lockedAt && o.end <= unlockAt);
  const afterRecovery = outcomes.filter((o) => o.start >= recoveredAt + 1_000);
  const summary =
    `db-faults [sqlite, read-only]: before ${count(before, 200)}/${before.length} acknowledged; while read-only ${whileReadOnly.length} answers, ` +
    `${count(whileReadOnly, 503)} 503 (slowest ${Math.max(0, ...whileReadOnly.map((o) => o.end - o.start))} ms), ${count(whileReadOnly, 200)} 200; ` +
    `/readyz while read-only ${readyWhileReadOnly.status}; recovered ${recoveredAt - writableAt} ms after chattr -i; ` +
    `after recovery ${count(afterRecovery, 200)}/${afterRecovery.length} acknowledged; ` +
    `${ackedEvents(outcomes).length + recoveryAcks.length} events acknowledged, ${verdict.notProcessed.length} not PROCESSED; ${ackedLeads(outcomes).length} leads saved`;
  t.diagnostic(summary);

  assert.ok(isRunning(serve), `serve exited\n${tail(serve)}`);
  assert.equal(
    count(before, 200),
    before.length,
    `refusals before the fault: ${before
      .filter((o) => o.status !== 200)
      .map(describe)
      .join('\n')}`,
  );
  for (const p of probes) assertUnavailable(p);
  assert.ok(whileReadOnly.length > 0, 'the load ran while the database was read-only');
  for (const o of whileReadOnly) assertUnavailable(o);
  assertOnly200Or503(outcomes, REQUEST_TIMEOUT_MS);
  assert.ok(afterRecovery.length > 0 && count(afterRecovery, 200) === afterRecovery.length, `after recovery: ${summary}`);
  assert.deepEqual(verdict.notProcessed, [], summary);
  assert.deepEqual(verdict.missingLeads, [], summary);
  assert.equal(verdict.half, 0, 'events without their body');
});
