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
import { loadConfig } from '../../src/core/config.js';
import { connect } from '../../src/db/connect.js';
import { freePort, killAll, run, show } from '../helpers/cli.js';
import { testDialects } from '../helpers/databases.js';
import { killHard, request, running, type ServiceProcess, serviceClient, startService } from '../helpers/service-process.js';

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
/** Every request (the /readyz polls too) carries the bench partner's credentials. */
const HTTP = { host: HOST, auth: BENCH_AUTH, timeoutMs: REQUEST_TIMEOUT_MS, startTimeoutMs: START_TIMEOUT_MS };
const { waitReady } = serviceClient(HTTP);
const isRoot = process.getuid?.() === 0;

const cleanups: (() => Promise<void>)[] = [];
/** Every `serve` started here (killed before the cleanups, which unmount and delete their files). */
const serves: ServiceProcess[] = [];
after(async () => {
  killAll();
  await Promise.all(serves.map(killHard));
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
  const [method, path, body]: [string, string, string | undefined] =
    kind === 'event'
      ? ['POST', GATE_PATH, gateBody(i)]
      : kind === 'lead'
        ? ['POST', LEADS_PATH, leadBody(i)]
        : ['GET', '/readyz', undefined];
  return request(port, agent, method, path, body, HTTP).then(
    (answer) => ({
      kind,
      start: begin,
      end: Date.now(),
      status: answer.status,
      body: answer.body,
      retryAfter: answer.headers['retry-after'] as string | undefined,
    }),
    (err: Error) => ({ kind, start: begin, end: Date.now(), status: 0, body: '', retryAfter: undefined, error: err.message }),
  );
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

/** `dealer-gateway serve` on `url` (default configuration, short lease); every stdout line is kept in `log`. */
interface Serve extends ServiceProcess {
  readonly port: number;
  readonly log: string[];
}

async function startServe(url: string): Promise<Serve> {
  const port = await freePort();
  const log: string[] = [];
  const env = { DATABASE_URL: url, PORT: String(port), HOST, LOG_LEVEL: 'warn', WORKER_LEASE_MS: String(LEASE_MS) };
  const proc = startService('serve', ['serve'], env, {
    onLine: (line, stream) => {
      if (stream === 'stdout') log.push(line);
      return true;
    },
  });
  serves.push(proc);
  const serve = Object.assign(proc, { port, log });
  await waitReady(serve, port);
  return serve;
}

/** Sends events until one is acknowledged (the service recovered by itself); returns that time. */
async function waitRecovered(serve: Serve, acks: string[]): Promise<number> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  let last: Outcome | undefined;
  while (Date.now() < deadline) {
    assert.ok(running(serve.child), `serve exited during the fault\n${serve.tail()}`);
    last = await send(serve.port, false, 'event', sequence++);
    if (last.status === 200) {
      acks.push((JSON.parse(last.body) as { requestId: string }).requestId);
      return Date.now();
    }
    assertUnavailable(last, REQUEST_TIMEOUT_MS);
    await sleep(250);
  }
  throw new Error(
    `no event acknowledged within ${RECOVERY_TIMEOUT_MS} ms of the fault's end; last: ${last && describe(last)}\n${serve.tail()}`,
  );
}

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

type Query = (text: string) => Promise<Record<string, unknown>[]>;

/** Waits until nothing is RECEIVED, then checks every acknowledged event and lead is there. */
async function drainAndVerify(serve: ServiceProcess, query: Query, events: readonly string[], leads: readonly string[]): Promise<Verdict> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const rows = await query(`SELECT count(*) AS n FROM events WHERE status = 'RECEIVED'`);
    const received = Number(rows[0]?.n ?? 0);
    if (received === 0) break;
    assert.ok(running(serve.child), `serve exited with ${received} events RECEIVED\n${serve.tail()}`);
    if (Date.now() > deadline) assert.fail(`${received} events still RECEIVED after ${DRAIN_TIMEOUT_MS} ms\n${serve.tail()}`);
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

/** How a scenario ended: the service recovered by itself, the load stopped, everything drained. */
interface Recovery {
  /** Every answer the load got. */
  readonly outcomes: Outcome[];
  /** When the first event after the fault's end was acknowledged. */
  readonly recoveredAt: number;
  /** The load's answers from 1 s after the recovery on. */
  readonly afterRecovery: Outcome[];
  readonly verdict: Verdict;
  /** The summary's common end: after recovery, events acknowledged and PROCESSED, leads saved. */
  readonly figures: string;
}

/**
 * Once the fault is over: waits until an event is acknowledged again, lets the load run 2 s more
 * and stops it, then waits for the drain and verifies everything acknowledged through `open`'s query.
 */
async function recover(serve: Serve, load: Load, open: () => Promise<{ query: Query; close(): Promise<void> }>): Promise<Recovery> {
  const recoveryAcks: string[] = [];
  const recoveredAt = await waitRecovered(serve, recoveryAcks);
  await sleep(2_000);
  await load.stop();
  const outcomes = load.outcomes;
  const { query, close } = await open();
  let verdict: Verdict;
  try {
    verdict = await drainAndVerify(serve, query, [...ackedEvents(outcomes), ...recoveryAcks], ackedLeads(outcomes));
  } finally {
    await close();
  }
  const afterRecovery = outcomes.filter((o) => o.start >= recoveredAt + 1_000);
  const figures =
    `after recovery ${count(afterRecovery, 200)}/${afterRecovery.length} acknowledged; ` +
    `${ackedEvents(outcomes).length + recoveryAcks.length} events acknowledged, ${verdict.notProcessed.length} not PROCESSED; ` +
    `${ackedLeads(outcomes).length} leads saved`;
  return { outcomes, recoveredAt, afterRecovery, verdict, figures };
}

/** Before the fault every request was acknowledged; during it, the probes and the load were refused (well-formed, fast). */
function assertRefusedDuringFault(
  before: readonly Outcome[],
  probes: readonly Outcome[],
  during: readonly Outcome[],
  fault: string,
  state: string,
): void {
  assert.equal(
    count(before, 200),
    before.length,
    `refusals before ${fault}: ${before
      .filter((o) => o.status !== 200)
      .map(describe)
      .join('\n')}`,
  );
  for (const probe of probes) assertUnavailable(probe);
  assert.ok(during.length > 0, `the load ran while the database was ${state}`);
  for (const o of during) assertUnavailable(o);
}

/** Only 200s and well-formed 503s; all acknowledged after the recovery; everything acknowledged stored and processed. */
function assertRecovered({ outcomes, afterRecovery, verdict }: Recovery, summary: string): void {
  assertOnly200Or503(outcomes, REQUEST_TIMEOUT_MS);
  assert.ok(afterRecovery.length > 0 && count(afterRecovery, 200) === afterRecovery.length, `after recovery: ${summary}`);
  assert.deepEqual(verdict.notProcessed, [], summary);
  assert.deepEqual(verdict.missingLeads, [], summary);
  assert.equal(verdict.half, 0, 'events without their body');
}

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

  const serve = await startServe(url);
  const { port } = serve;
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
  const recovery = await recover(serve, load, async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return { query: async (text) => (await client.query(text)).rows, close: () => client.end() };
  });
  const { outcomes, recoveredAt } = recovery;

  const before = outcomes.filter((o) => o.end < stopAt);
  const whileDown = outcomes.filter((o) => o.start >= downAt && o.end <= upAt);
  const lostLines = serve.log.filter((l) => l.includes('PostgreSQL connection lost while idle'));
  const summary =
    `db-faults [postgres]: before the stop ${count(before, 200)}/${before.length} acknowledged; while down ${whileDown.length} answers, ` +
    `${count(whileDown, 503)} 503 (slowest ${Math.max(0, ...whileDown.map((o) => o.end - o.start))} ms), ${count(whileDown, 200)} 200; ` +
    `PostgreSQL up again ${pgReadyAt - upAt} ms after pg_ctl start, service recovered ${recoveredAt - pgReadyAt} ms later; ` +
    `${recovery.figures}; ${lostLines.length} "connection lost while idle" log lines`;
  t.diagnostic(summary);

  assert.ok(running(serve.child), `serve exited\n${serve.tail()}`);
  assertRefusedDuringFault(before, probes, whileDown, 'the stop', 'down');
  assertRecovered(recovery, summary);
  // The storage thread must ride out the outage, not die and be restarted (with backoff) by it.
  const threadDeaths = serve.log.filter((l) => /"msg":"storage thread (failed|exited)/.test(l));
  assert.deepEqual(threadDeaths, [], 'the storage thread died during the outage');
  assert.ok(lostLines.length > 0, `no "connection lost while idle" line in the log\n${serve.tail()}`);
  for (const line of lostLines) assert.ok((JSON.parse(line) as { level: number }).level >= 40, line);
});

// ---------------------------------------------------------------------------------------------
// SQLite: a full disk, a read-only database.

const sqliteSkipReason = () => (!testDialects().includes('sqlite') ? 'TEST_DIALECTS does not include sqlite' : undefined);

/** For `recover`: a query on the SQLite database at `path`, closed with the cleanups (after the service is killed). */
const openSqlite = (path: string) => async () => {
  const db = connect(loadConfig({ DATABASE_URL: `sqlite:${path}`, LOG_LEVEL: 'silent' }).database);
  cleanups.push(() => db.close());
  return {
    query: async (text: string) => {
      const { sql } = await import('kysely');
      return (await sql.raw<Record<string, unknown>>(text).execute(db.kysely)).rows;
    },
    close: async () => undefined,
  };
};

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
  const serve = await startServe(url);
  const { port } = serve;

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
    assert.ok(running(serve.child), `serve exited on a full disk\n${serve.tail()}`);
    firstRefusalAt ??= load.outcomes.find((o) => o.start >= fullAt && o.status === 503)?.start;
    if (firstRefusalAt !== undefined && Date.now() - firstRefusalAt > 3_000) break;
  }
  const readyWhileFull = await send(port, false, 'readyz', 0);
  unlinkSync(filler);
  const freedAt = Date.now();
  const recovery = await recover(serve, load, openSqlite(dbPath));
  const { outcomes, recoveredAt } = recovery;
  const whileFull = outcomes.filter((o) => o.start >= fullAt && o.end <= freedAt);
  const summary =
    `db-faults [sqlite, full disk]: filler ${(fillerBytes / 1048576).toFixed(1)} MB; while full ${whileFull.length} answers, ` +
    `${count(whileFull, 200)} 200 (fitted before the database had to grow), ${count(whileFull, 503)} 503 ` +
    `(first ${firstRefusalAt === undefined ? 'never' : `${firstRefusalAt - fullAt} ms`} after the disk filled, slowest ${Math.max(0, ...whileFull.filter((o) => o.status === 503).map((o) => o.end - o.start))} ms); ` +
    `/readyz while full ${readyWhileFull.status}; recovered ${recoveredAt - freedAt} ms after the filler was deleted; ${recovery.figures}`;
  t.diagnostic(summary);

  assert.ok(running(serve.child), `serve exited\n${serve.tail()}`);
  assert.ok(firstRefusalAt !== undefined, `the full disk never refused a write: ${summary}`);
  assertRecovered(recovery, summary);
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
  const serve = await startServe(url);
  const { port } = serve;

  const load = startLoad(port, 12, 4);
  await sleep(1_500);
  assert.ok(existsSync(`${dbPath}-wal`), 'the database has a WAL');
  const lockAt = Date.now();
  await run$('chattr', ['+i', ...files]);
  const lockedAt = Date.now();
  await sleep(4_000);
  assert.ok(running(serve.child), `serve exited on a read-only database\n${serve.tail()}`);
  const probes: Outcome[] = [];
  for (const kind of ['event', 'lead'] as const) probes.push(await send(port, false, kind, sequence++));
  const readyWhileReadOnly = await send(port, false, 'readyz', 0);
  const unlockAt = Date.now();
  await run$('chattr', ['-i', ...files]);
  const writableAt = Date.now();
  const recovery = await recover(serve, load, openSqlite(dbPath));
  const { outcomes, recoveredAt } = recovery;
  const before = outcomes.filter((o) => o.end < lockAt);
  const whileReadOnly = outcomes.filter((o) => o.start >= lockedAt && o.end <= unlockAt);
  const summary =
    `db-faults [sqlite, read-only]: before ${count(before, 200)}/${before.length} acknowledged; while read-only ${whileReadOnly.length} answers, ` +
    `${count(whileReadOnly, 503)} 503 (slowest ${Math.max(0, ...whileReadOnly.map((o) => o.end - o.start))} ms), ${count(whileReadOnly, 200)} 200; ` +
    `/readyz while read-only ${readyWhileReadOnly.status}; recovered ${recoveredAt - writableAt} ms after chattr -i; ${recovery.figures}`;
  t.diagnostic(summary);

  assert.ok(running(serve.child), `serve exited\n${serve.tail()}`);
  assertRefusedDuringFault(before, probes, whileReadOnly, 'the fault', 'read-only');
  assertRecovered(recovery, summary);
});
