// `npm run bench:cpu`: CPU time per acknowledged event, per thread of the service, after the
// same figure for the bare Fastify baseline and, per database, for the near-limit durable
// reference (bench/reference.ts) under the same load; the gate's rate is printed as a fraction
// of the reference's. Throughput on
// a 2-core machine moves ±15 % with whatever else runs; CPU time per event moves far less, so
// this is the figure to compare when changing the hot path. It starts the service in its default
// configuration (in-process worker on) on a fresh database, drives the gate with wrk at 50
// connections, waits until every acknowledged event is PROCESSED, and prints, for each thread,
// the CPU (user + system, from /proc/PID/task/TID/stat) it spent per event over load and drain.
//
//   npm run bench:cpu
//   BENCH_DIALECTS=sqlite BENCH_SECONDS=8 WORKER_ENABLED=false npm run bench:cpu
//   BENCH_ROUTE=leads BENCH_DIALECTS=postgres npm run bench:cpu                    # lead saves
//   BENCH_LOG_LEVEL=warn npm run bench:cpu                                         # the access log off
//   BENCH_SETUP_SQL='DROP TRIGGER event_bodies_search_insert' npm run bench:cpu   # an A/B probe
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Dialect } from '../src/db/connect.js';
import { applyProvisioning } from '../src/provisioning/provisioning.service.js';
import { createTestDatabase } from '../test/helpers/databases.js';
import { countByStatus, waitUntilDrained } from './drain.js';
import { BENCH_AUTH, GATE_PATH, gateBody, LEADS_PATH, leadBody, provisioning } from './fixture.js';
import { runLoad } from './load.js';
import { prepareRuntime, startBaseline, startReference, startService, type Target } from './targets.js';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ThreadTicks {
  readonly name: string;
  readonly ticks: number;
}

/** Every thread of `pid`: its name (comm) and CPU ticks so far (utime + stime). */
function threadTicks(pid: number): Map<number, ThreadTicks> {
  const threads = new Map<number, ThreadTicks>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The name is in parentheses and may hold spaces; fields 14 and 15 follow it.
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      threads.set(Number(tid), { name, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return threads;
}

/** CPU ticks of every PostgreSQL server process on this machine (the server the bench uses is local). */
function postgresTicks(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const fields = stat.slice(close + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

async function measure(dialect: Dialect, seconds: number, bodiesFile: string, referencePerSecond?: number): Promise<void> {
  const scratch = await createTestDatabase(dialect);
  try {
    await applyProvisioning(scratch.db.kysely, provisioning);
    // A probe for A/B runs: SQL run on the scratch database first (e.g. dropping an index).
    if (process.env.BENCH_SETUP_SQL) await sql.raw(process.env.BENCH_SETUP_SQL).execute(scratch.db.kysely);
    // The service's own settings are stripped from its environment (default configuration) except
    // the WORKER_* ones, which this script passes on when set (A/B runs of the worker's settings).
    const workerEnv = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('WORKER_') && e[1] !== undefined),
    );
    // BENCH_LOG_LEVEL: the service's LOG_LEVEL, for info-vs-warn runs of the same build.
    const logLevel: Record<string, string> = process.env.BENCH_LOG_LEVEL ? { LOG_LEVEL: process.env.BENCH_LOG_LEVEL } : {};
    const service = await startService(`service-${dialect}`, scratch.url, { ...workerEnv, ...logLevel });
    try {
      const before = threadTicks(service.process.pid);
      const postgresBefore = postgresTicks();
      const load = await loadOn(service.port, seconds, bodiesFile);
      // Nothing drains with the worker off (or for leads): measure the load alone.
      const waitForDrain = ROUTE === 'gate' && process.env.WORKER_ENABLED !== 'false';
      const drained = waitForDrain ? await waitUntilDrained(scratch.db.kysely, 120_000) : { seconds: 0 };
      const after = threadTicks(service.process.pid);
      const postgresUsed = postgresTicks() - postgresBefore;
      const counts = await countByStatus(scratch.db.kysely);
      // Per answered request for leads (each a save); per stored event for the gate.
      const events = ROUTE === 'leads' ? load.requests : Object.values(counts).reduce((a, b) => a + b, 0);
      const rows = [...after.entries()]
        .map(([tid, t]) => ({ tid, name: t.name, ticks: t.ticks - (before.get(tid)?.ticks ?? 0) }))
        .filter((t) => t.ticks > 0)
        .sort((a, b) => b.ticks - a.ticks);
      const usPerEvent = (ticks: number) => ((ticks / TICKS_PER_SECOND) * 1e6) / Math.max(1, events);
      const total = rows.reduce((sum, r) => sum + r.ticks, 0);
      process.stdout.write(
        `\n${dialect}${logLevel.LOG_LEVEL ? ` (LOG_LEVEL=${logLevel.LOG_LEVEL})` : ''}: ${load.perSecond} req/s over ${seconds} s, p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms; ` +
          `${events} events stored, ${JSON.stringify(counts)}, drained ${drained.seconds.toFixed(1)} s after the load` +
          (referencePerSecond ? `; ${(load.perSecond / referencePerSecond).toFixed(2)}× the reference` : '') +
          '\n',
      );
      for (const row of rows) {
        const name = row.tid === service.process.pid ? 'request (main)' : row.name;
        process.stdout.write(
          `  ${name.padEnd(16)} tid ${String(row.tid).padEnd(8)} ${usPerEvent(row.ticks).toFixed(0).padStart(5)} µs/event\n`,
        );
      }
      process.stdout.write(`  ${'all threads'.padEnd(29)} ${usPerEvent(total).toFixed(0).padStart(5)} µs/event\n`);
      if (dialect === 'postgres') {
        process.stdout.write(`  ${'PostgreSQL server processes'.padEnd(29)} ${usPerEvent(postgresUsed).toFixed(0).padStart(5)} µs/event\n`);
      }
      const idleMb = service.idleMb;
      const { peakMb } = await service.stop();
      process.stdout.write(`  RSS: ${idleMb} MB idle, ${peakMb} MB peak\n`);
    } finally {
      await service.stop();
    }
  } finally {
    await scratch.destroy();
  }
}

/** wrk (or autocannon) on the measured route: BENCH_CONNECTIONS (50) connections for `seconds`. */
function loadOn(port: number, seconds: number, bodiesFile: string) {
  return runLoad({
    port,
    path: ROUTE === 'leads' ? LEADS_PATH : GATE_PATH,
    bodiesFile,
    authorization: BENCH_AUTH,
    connections: Number(process.env.BENCH_CONNECTIONS ?? 50),
    seconds,
  });
}

/** A single-process target under the same load: its throughput, p99 and CPU per request. */
async function measureTarget(target: Target, seconds: number, bodiesFile: string) {
  const before = threadTicks(target.process.pid);
  const load = await loadOn(target.port, seconds, bodiesFile);
  const after = threadTicks(target.process.pid);
  let ticks = 0;
  for (const [tid, t] of after) ticks += t.ticks - (before.get(tid)?.ticks ?? 0);
  return { load, us: ((ticks / TICKS_PER_SECOND) * 1e6) / Math.max(1, load.requests) };
}

/** The bare Fastify route under the same load, for the side-by-side figure (per request). */
async function measureBaseline(seconds: number, bodiesFile: string): Promise<void> {
  const baseline = await startBaseline();
  try {
    const { load, us } = await measureTarget(baseline, seconds, bodiesFile);
    process.stdout.write(
      `\nbaseline (bare Fastify): ${load.perSecond} req/s, p99 ${load.p99Ms} ms; all threads ${us.toFixed(0)} µs/request\n`,
    );
  } finally {
    await baseline.stop();
  }
}

/** The near-limit durable reference (bench/reference.ts) on its own scratch database; req/s. */
async function measureReference(dialect: Dialect, seconds: number, bodiesFile: string): Promise<number> {
  const scratch = await createTestDatabase(dialect, {}, { migrate: false });
  try {
    const reference = await startReference(scratch.url.replace(/^sqlite:/, ''), BENCH_AUTH);
    try {
      const { load, us } = await measureTarget(reference, seconds, bodiesFile);
      const { peakMb } = await reference.stop();
      process.stdout.write(
        `\nreference (durable, ${dialect}): ${load.perSecond} req/s, p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms; ` +
          `all threads ${us.toFixed(0)} µs/request; RSS ${reference.idleMb} MB idle, ${peakMb} MB peak\n`,
      );
      return load.perSecond;
    } finally {
      await reference.stop();
    }
  } finally {
    await scratch.destroy();
  }
}

const dialects = (process.env.BENCH_DIALECTS ?? 'sqlite').split(',') as Dialect[];
/** BENCH_ROUTE=leads measures lead saves instead of the event gate (figures per save). */
const ROUTE = process.env.BENCH_ROUTE === 'leads' ? 'leads' : 'gate';
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
await prepareRuntime();
const bodiesFile = join(tmpdir(), `bench-cpu-bodies-${process.pid}.txt`);
const body = ROUTE === 'leads' ? leadBody : gateBody;
writeFileSync(bodiesFile, `${Array.from({ length: 1000 }, (_, i) => body(i)).join('\n')}\n`);
await measureBaseline(seconds, bodiesFile);
for (const dialect of dialects) {
  // The gate is also read against the durable reference on the same database (it has no leads route).
  const reference = ROUTE === 'gate' ? await measureReference(dialect, seconds, bodiesFile) : undefined;
  await measure(dialect, seconds, bodiesFile, reference);
}
