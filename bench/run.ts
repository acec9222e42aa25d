// `npm run bench`: the service as a user runs it (`dealer-gateway serve`, its own process)
// against a bare Fastify baseline (bench/baseline.ts), both driven by a separate load-generator
// process (wrk, else autocannon; bench/load.ts), per database, on a scratch database:
//
//   gate      baseline gate route; service, default configuration (in-process worker on, LOG_LEVEL
//             info), then how long its worker takes to process what was acknowledged; service
//             with WORKER_ENABLED=false
//   leads     baseline leads route; service lead saves, default configuration
//   drain     BENCH_DRAIN_EVENTS (200000) events preloaded as RECEIVED for a partner with a JSON
//             Schema and a JSONata transform, drained by `dealer-gateway worker` (events/s, RSS)
//   overload  service, default configuration, BENCH_OVERLOAD_CONNECTIONS (500) connections
//   delivery  the yardstick (bare undici POSTs to a no-op receiver), the service draining
//             BENCH_DELIVERY_MESSAGES (20000) preloaded messages, the outbox's cost at the gate
//             and at lead saves, the gate at its maximum with delivery on, and lag at
//             BENCH_LAG_RATE (1000) events/s (bench/delivery-scenarios.ts)
//
// Prints a table; writes bench/results/<timestamp>-<dialect>.json and bench/results/latest.json.
// Asserts nothing.
//
//   npm run bench
//   BENCH_DIALECTS=sqlite BENCH_SCENARIOS=gate,leads BENCH_SECONDS=5 npm run bench
//   npm run bench:delivery            (BENCH_SCENARIOS=delivery)
//
// Also: BENCH_CONNECTIONS (50), BENCH_WORKER_BATCH_SIZE (unset: the worker's default),
// BENCH_DRAIN_TIMEOUT_S (1800), BENCH_LOADGEN (wrk|autocannon), BENCH_LOG_DIR (keep the
// processes' logs instead of sending them to /dev/null). PostgreSQL: a scratch database on
// TEST_POSTGRES_URL's server (default postgres://postgres@127.0.0.1:5432/test).
// Traffic goes only to 127.0.0.1; every process started is killed at the end, whatever happens.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Dialect } from '../src/db/connect.js';
import { applyProvisioning } from '../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/databases.js';
import { DeliveryBench } from './delivery-scenarios.js';
import { gateBody, leadBody, provisioning } from './fixture.js';
import { loadTool } from './load.js';
import { isAborted } from './processes.js';
import { addRatios, type DialectReport, machineFacts, printProcesses, printTable, stamp, writeDialect, writeLatest } from './report.js';
import type { BodyFiles } from './scenarios.js';
import { type Scenario, settings } from './settings.js';
import { prepareRuntime } from './targets.js';

/** Request bodies, one per line, that the load generator sends in turn. */
function writeBodies(dir: string): BodyFiles {
  const lines = (body: (i: number) => string) => `${Array.from({ length: 1000 }, (_, i) => body(i)).join('\n')}\n`;
  const files = { gate: join(dir, 'gate.txt'), leads: join(dir, 'leads.txt') };
  writeFileSync(files.gate, lines(gateBody));
  writeFileSync(files.leads, lines(leadBody));
  return files;
}

async function databaseVersion(scratch: TestDatabase): Promise<string> {
  const query =
    scratch.dialect === 'postgres'
      ? sql<{ v: string }>`select version() as v`
      : sql<{ v: string }>`select 'SQLite ' || sqlite_version() as v`;
  return (await query.execute(scratch.db.kysely)).rows[0]?.v ?? 'unknown';
}

async function benchDialect(dialect: Dialect, bodies: BodyFiles): Promise<DialectReport> {
  // A fresh database of its own (the test suite's helper): a temp SQLite file or a new PostgreSQL database.
  const scratch = await createTestDatabase(dialect);
  try {
    await applyProvisioning(scratch.db.kysely, provisioning);
    const bench = new DeliveryBench(dialect, scratch, bodies);
    const has = (s: Scenario) => settings.scenarios.includes(s);
    const routes = (['gate', 'leads'] as const).filter(has);
    process.stdout.write(`${dialect}:\n`);
    if (routes.length > 0) await bench.baseline(routes);
    if (has('gate')) {
      await bench.reference();
      await bench.gateDefault();
      await bench.gateWorkerOff();
    }
    if (has('leads')) await bench.leads();
    if (has('drain')) await bench.drain();
    if (has('overload')) await bench.overload();
    if (has('delivery')) await bench.delivery();
    addRatios(bench.rows);
    return { dialect, database: await databaseVersion(scratch), rows: bench.rows, processes: bench.processes };
  } finally {
    await scratch.destroy();
  }
}

const facts = machineFacts(loadTool()); // first: the load average before anything of ours runs
const runtime = await prepareRuntime();
const machine = { ...facts, runtime };
const runStamp = stamp(new Date());
const common = { machine, settings: { ...settings, loadTool: loadTool() } };
const [load1 = 0] = machine.loadAverageBefore;
process.stdout.write(
  `dealer-gateway bench: ${settings.seconds} s per scenario, ${settings.connections} connections (overload ${settings.overloadConnections}); ` +
    `${machine.loadGenerator}, node ${process.version}, ${machine.nproc} CPUs, load average ${load1}; ` +
    `git ${machine.gitCommit}${machine.gitDirty ? ' with uncommitted changes' : ''}; service runs ${runtime}\n`,
);
if (load1 > machine.nproc / 2) {
  process.stdout.write(`warning: the machine is busy (load average ${load1}): figures will be low and noisy\n`);
}

const dir = mkdtempSync(join(tmpdir(), 'dg-bench-'));
const reports: DialectReport[] = [];
try {
  const bodies = writeBodies(dir);
  for (const dialect of settings.dialects) {
    const report = await benchDialect(dialect, bodies);
    reports.push(report);
    // Written as each database finishes, so an interrupted run keeps what it measured.
    writeDialect(runStamp, common, report);
    writeLatest(common, reports);
  }
} catch (err) {
  if (!isAborted()) throw err;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (isAborted()) {
  process.stdout.write('aborted: the processes were stopped and the scratch databases dropped\n');
  process.exit(130);
}
printTable(reports.flatMap((r) => r.rows));
printProcesses(reports);
const files = reports.map((r) => `bench/results/${runStamp}-${r.dialect}.json`);
process.stdout.write(`\nwritten: ${[...files, 'bench/results/latest.json'].join(', ')}\n`);
if (reports.some((r) => r.rows.some((row) => row.note.startsWith('FAILED')))) process.exitCode = 1;
