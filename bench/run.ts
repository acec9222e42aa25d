// Throughput benchmark: starts the real service (bench/server.ts) in its own process on a
// loopback port and measures, per database, (1) a no-op authenticated POST (the ceiling: HTTP +
// auth + body, no storage), (2) the event gate (durable acknowledgement), (3) lead saves, then
// (4) how fast one worker drains the events the gate stored. Prints figures; asserts nothing.
// The load generator is this process: keep-alive connections, one request in flight on each.
//
//   npm run bench                                  # both databases, 5 s per scenario
//   BENCH_DIALECTS=sqlite BENCH_SECONDS=10 BENCH_CONCURRENCY=64 npm run bench
// PostgreSQL: a scratch database on TEST_POSTGRES_URL's server (default postgres://postgres@127.0.0.1:5432/test).
//
// Traffic goes only to 127.0.0.1, bounded in time; every server started here is closed.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import pino from 'pino';
import { SubscriberDirectory } from '../src/auth/directory.js';
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

function post(agent: http.Agent, port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function load(port: number, path: string, body: (i: number) => string): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const status = await post(agent, port, path, body(counter++));
        latencies.push(performance.now() - t0);
        if (status !== 200) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { requests: latencies.length, errors, perSecond: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99) };
}

/** Starts bench/server.ts on the scratch database; resolves with its port and a stop function. */
async function startServer(databaseUrl: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/server.ts'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, WORKER_ENABLED: 'false', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  if (!port) throw new Error('bench server did not start');
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

function row(dialect: string, scenario: string, r: Result): void {
  process.stdout.write(
    `${dialect.padEnd(9)} ${scenario.padEnd(24)} ${r.perSecond.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(2).padStart(7)} ms   p99 ${r.p99
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
    const server = await startServer(scratch.url);
    try {
      const noop = () => eventBody;
      await load(server.port, '/bench/noop', noop); // warm-up: credential cache, JIT
      row(dialect, 'no-op POST (auth only)', await load(server.port, '/bench/noop', noop));
      row(dialect, 'event gate (durable)', await load(server.port, '/service-pre-diag/third-party-events/vehicle-service-chat/v1', noop));
      row(dialect, 'lead save (upsert)', await load(server.port, '/leads/v2/dealer/d-1', leadBody));
    } finally {
      await server.stop();
    }

    const pending = await db.kysely
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'RECEIVED')
      .executeTakeFirstOrThrow();
    const directory = new SubscriberDirectory(db.kysely);
    await directory.refresh(true);
    const worker = new Worker({
      db,
      directory,
      log: pino({ level: 'silent' }),
      config: { ...config.worker, batchSize: 200, concurrency: Number(process.env.WORKER_CONCURRENCY ?? config.worker.concurrency) },
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
      `${dialect.padEnd(9)} ${'worker drain'.padEnd(24)} ${(processed / secs).toFixed(0).padStart(7)} ev/s    (${processed} of ${Number(pending.n)} events in ${secs.toFixed(1)} s)\n`,
    );
  } finally {
    await scratch.destroy();
  }
}

process.stdout.write(`dealer-gateway bench: ${SECONDS} s per scenario, ${CONCURRENCY} concurrent clients, node ${process.version}\n`);
for (const dialect of DIALECTS) await benchDialect(dialect);
