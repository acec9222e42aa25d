// Connection storm: the service as `npm start` runs it (bin/dealer-gateway.js serve, default
// configuration, worker in-process), hit by STORM_CONNECTIONS fresh connections at once, each
// POSTing one STORM_BODY_KB event to the gate, for STORM_ROUNDS rounds. Prints, per round, the
// statuses seen, latency percentiles and the service's RSS; then checks that every 200 is stored.
// Prints figures; asserts nothing.
//
//   node --import tsx bench/storm.ts                       # SQLite, 2000 connections, 48 KB, 3 rounds
//   STORM_DIALECT=postgres STORM_CONNECTIONS=2000 node --import tsx bench/storm.ts
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import type { Dialect } from '../src/db/connect.js';
import { applyProvisioning } from '../src/provisioning/provisioning.service.js';
import { createTestDatabase } from '../test/helpers/databases.js';

const DIALECT = (process.env.STORM_DIALECT ?? 'sqlite') as Dialect;
const CONNECTIONS = Number(process.env.STORM_CONNECTIONS ?? 2000);
const BODY_KB = Number(process.env.STORM_BODY_KB ?? 48);
const ROUNDS = Number(process.env.STORM_ROUNDS ?? 3);
const PASSWORD = 'storm-password-1';
const AUTH = `Basic ${Buffer.from(`storm:${PASSWORD}`).toString('base64')}`;
const URL_PATH = '/service-pre-diag/third-party-events/vehicle-service-chat/v1';

const body = JSON.stringify({ dealer_uuid: 'd-1', vin: null, summary: 'x'.repeat(BODY_KB * 1024) });

function rssMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Answer {
  readonly status: number | string;
  readonly ms: number;
  readonly requestId?: string;
}

function post(port: number): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: URL_PATH,
        method: 'POST',
        agent: false,
        headers: { authorization: AUTH, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - t0;
          const text = Buffer.concat(chunks).toString();
          const requestId = res.statusCode === 200 ? (JSON.parse(text) as { requestId: string }).requestId : undefined;
          resolve({ status: res.statusCode ?? 0, ms, ...(requestId ? { requestId } : {}) });
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'error', ms: performance.now() - t0 }));
    req.setTimeout(120_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.end(body);
  });
}

const scratch = await createTestDatabase(DIALECT);
await applyProvisioning(scratch.db.kysely, {
  dealers: [{ uuid: 'd-1', name: 'Storm Motors' }],
  subscribers: [{ username: 'storm', password: PASSWORD, grants: [{ scope: 'spd.events.vehicleservicechat.write', dealers: '*' }] }],
  integrations: [{ subscriber: 'storm', eventType: 'vehicle-service-chat', dealerMap: {} }],
});
const port = await freePort();
const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
const service = spawn(process.execPath, ['bin/dealer-gateway.js', 'serve'], {
  env: { ...env, DATABASE_URL: scratch.url, PORT: String(port), LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
for (let i = 0; ; i++) {
  const up = await new Promise<boolean>((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => resolve(res.statusCode === 200))
      .on('error', () => resolve(false));
  });
  if (up) break;
  if (i > 200) throw new Error('service did not start');
  await new Promise((r) => setTimeout(r, 50));
}
// One authenticated request first, as a partner already connected would have made.
await post(port);
const pid = service.pid as number;
process.stdout.write(
  `storm: ${DIALECT}, ${CONNECTIONS} connections at once × ${ROUNDS} rounds, ${BODY_KB} KB events, default configuration; idle RSS ${rssMb(pid).rss.toFixed(0)} MB\n`,
);
const acknowledged: string[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const t0 = performance.now();
  const answers = await Promise.all(Array.from({ length: CONNECTIONS }, () => post(port)));
  const seconds = (performance.now() - t0) / 1000;
  const statuses = new Map<string, number>();
  for (const a of answers) statuses.set(String(a.status), (statuses.get(String(a.status)) ?? 0) + 1);
  for (const a of answers) if (a.requestId) acknowledged.push(a.requestId);
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor(ms.length * p))] ?? 0;
  const mem = rssMb(pid);
  process.stdout.write(
    `round ${round}: ${seconds.toFixed(1)} s; ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}; p50 ${pct(0.5).toFixed(0)} ms, p99 ${pct(0.99).toFixed(0)} ms, max ${pct(1).toFixed(0)} ms; RSS ${mem.rss.toFixed(0)} MB (peak ${mem.peak.toFixed(0)} MB)\n`,
  );
}
await new Promise((r) => setTimeout(r, 5000));
process.stdout.write(`after 5 s idle: RSS ${rssMb(pid).rss.toFixed(0)} MB\n`);
service.kill('SIGTERM');
await new Promise((resolve) => service.once('exit', resolve));
const stored = new Set((await scratch.db.kysely.selectFrom('events').select('request_id').execute()).map((r) => r.request_id));
const missing = acknowledged.filter((id) => !stored.has(id)).length;
process.stdout.write(`acknowledged ${acknowledged.length}, stored ${stored.size}, acknowledged but missing ${missing}\n`);
await scratch.destroy();
