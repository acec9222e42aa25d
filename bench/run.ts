// Throughput benchmark: starts the real service on a loopback port and measures, per database,
// (1) a no-op authenticated route (the ceiling: HTTP + auth, no storage), (2) the event gate
// (durable acknowledgement), (3) lead saves, then (4) how fast the worker drains the events the
// gate stored. Prints figures; asserts nothing.
//
//   npm run bench                                  # both databases, 5 s per scenario
//   BENCH_DIALECTS=sqlite BENCH_SECONDS=10 BENCH_CONCURRENCY=64 npm run bench
// PostgreSQL: a scratch database on TEST_POSTGRES_URL's server (default postgres://postgres@127.0.0.1:5432/test).
//
// Traffic goes only to 127.0.0.1, bounded in time; every server started here is closed.
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import type { Dialect } from '../src/db/connect.js';
import { Worker } from '../src/pipeline/worker.js';
import { applyProvisioning } from '../src/provisioning/provisioning.service.js';
import { createTestDatabase } from '../test/helpers/databases.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim()) as Dialect[];

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

async function benchDialect(dialect: Dialect): Promise<void> {
  // A fresh database of its own (the test suite's helper): a temp SQLite file or a new PostgreSQL database.
  const scratch = await createTestDatabase(dialect);
  const { config, db } = scratch;
  try {
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
    await scratch.destroy();
  }
}

process.stdout.write(`dealer-gateway bench: ${SECONDS} s per scenario, ${CONCURRENCY} concurrent clients, node ${process.version}\n`);
for (const dialect of DIALECTS) await benchDialect(dialect);
