// Throughput benchmark: starts the real service on a loopback port and measures, per database,
// (1) a no-op authenticated route (the ceiling: HTTP + auth, no storage), (2) the event gate
// (durable acknowledgement), (3) lead saves, then (4) how fast the worker drains the events the
// gate stored. Prints figures; asserts nothing.
//
//   npm run bench                                  # both databases, 5 s per scenario
//   BENCH_DIALECTS=sqlite BENCH_SECONDS=10 BENCH_CONCURRENCY=64 npm run bench
//
// Traffic goes only to 127.0.0.1, bounded in time; every server started here is closed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { connect } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { Worker } from '../src/pipeline/worker.js';
import { applyProvisioning } from '../src/provisioning/provisioning.service.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',');
const ADMIN_PG = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const PASSWORD = 'bench-password-1';
const AUTH = `Basic ${Buffer.from(`bench:${PASSWORD}`).toString('base64')}`;
const fixture = {
  dealers: [{ uuid: 'd-1', name: 'Bench Motors' }],
  subscribers: [
    {
      username: 'bench',
      password: PASSWORD,
      grants: [
        { scope: 'lead.write', dealers: ['d-1'] },
        { scope: 'spd.events.vehicleservicechat.write', dealers: '*' },
      ],
    },
  ],
  customers: [{ dealer: 'd-1', uuid: 'c-1', vehicles: [{ uuid: 'v-1', vin: '1HGCM82633A004352' }] }],
  integrations: [{ subscriber: 'bench', eventType: 'vehicle-service-chat', dealerMap: { 'B-1': 'd-1' } }],
};

const eventBody = JSON.stringify({
  customer_name: 'Jane Doe',
  vin: '1HGCM82633A004352',
  chat_code: 'CH-1',
  dealer_uuid: 'B-1',
  summary: 'Grinding noise when braking; customer wants a quote for front pads and rotors.',
  escalation_flag: false,
  line_items: [{ description: 'Front brake pads', payable: true }],
  transcript: [
    { customer: 'My brakes grind.', assistant: 'Let us book an inspection.' },
    { customer: 'Tomorrow?', assistant: 'Tomorrow at 9 works.' },
  ],
  media: [{ type: 'image', url: 'https://cdn.example.com/a.jpg' }],
});

function leadBody(i: number): string {
  return JSON.stringify({
    customer: { uuid: 'c-1' },
    vehicle: { uuid: 'v-1' },
    dealerDetails: { source: 'MMC' },
    services: [{ code: 'A', dueDate: '2023-06-01' }],
    status: 'NEW',
    lastContactDate: '2023-06-08 11:00:00Z',
    leadId: `L-${i % 1000}`,
    leadType: 'RECALL',
  });
}

interface Result {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
}

async function load(url: string, method: string, body: (i: number) => string | undefined): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const i = counter++;
        const t0 = performance.now();
        const payload = body(i);
        const res = await fetch(url, {
          method,
          headers: { authorization: AUTH, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(payload === undefined ? {} : { body: payload }),
        });
        await res.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (res.status !== 200) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { requests: latencies.length, errors, perSecond: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99) };
}

function row(dialect: string, scenario: string, r: Result): void {
  process.stdout.write(
    `${dialect.padEnd(9)} ${scenario.padEnd(22)} ${r.perSecond.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(2).padStart(7)} ms   p99 ${r.p99
      .toFixed(2)
      .padStart(7)} ms   (${r.requests} requests, ${r.errors} non-200)\n`,
  );
}

async function benchDialect(dialect: string): Promise<void> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'dg-bench-'));
    url = `sqlite:${join(dir, 'bench.db')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `dg_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_PG });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(ADMIN_PG);
    u.pathname = `/${name}`;
    url = u.toString();
    cleanup = async () => {
      const c = new pg.Client({ connectionString: ADMIN_PG });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', WORKER_ENABLED: 'false' });
  const db = connect(config.database);
  try {
    const migrated = await migrateToLatest(db.kysely);
    if (migrated.error !== undefined) throw migrated.error;
    await applyProvisioning(db.kysely, fixture);
    const app = await buildApp(config, { db, logger: false });
    app.get('/bench/noop', { onRequest: app.authenticate }, async () => ({ errors: [], warnings: [], requestId: null }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      await load(`${base}/bench/noop`, 'GET', () => undefined); // warm-up: credential cache, JIT
      row(dialect, 'no-op (auth only)', await load(`${base}/bench/noop`, 'GET', () => undefined));
      row(
        dialect,
        'event gate (durable)',
        await load(`${base}/service-pre-diag/third-party-events/vehicle-service-chat/v1`, 'POST', () => eventBody),
      );
      row(dialect, 'lead save (upsert)', await load(`${base}/leads/v2/dealer/d-1`, 'POST', leadBody));

      const pending = await db.kysely
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'RECEIVED')
        .executeTakeFirstOrThrow();
      const worker = new Worker({
        db,
        directory: app.directory,
        log: pino({ level: 'silent' }),
        config: { ...config.worker, batchSize: 200 },
      });
      const t0 = performance.now();
      let processed = 0;
      for (;;) {
        const r = await worker.runOnce();
        processed += r.processed + r.rejected;
        if (r.claimed === 0) break;
      }
      const secs = (performance.now() - t0) / 1000;
      process.stdout.write(
        `${dialect.padEnd(9)} ${'worker drain'.padEnd(22)} ${(processed / secs).toFixed(0).padStart(7)} ev/s    (${processed} of ${Number(pending.n)} events in ${secs.toFixed(1)} s)\n`,
      );
    } finally {
      await app.close();
    }
  } finally {
    await db.close();
    await cleanup();
  }
}

process.stdout.write(`dealer-gateway bench: ${SECONDS} s per scenario, ${CONCURRENCY} concurrent clients, node ${process.version}\n`);
for (const dialect of DIALECTS) await benchDialect(dialect.trim());
