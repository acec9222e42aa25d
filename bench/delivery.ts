// `npm run bench:delivery`: how fast the service delivers, against how fast this machine can POST
// at all. In one run, per database:
//   1. the yardstick: bare undici.Pool POSTs (BENCH_CONNECTIONS, 50, connections) of the same
//      signed-size payloads to a no-op receiver in its own process (bench/receiver.ts), for
//      BENCH_SECONDS — no database, no signing, no retries: a ceiling, not a goal;
//   2. the service (`dealer-gateway serve`, default configuration, the gate idle) draining
//      BENCH_DELIVERY_MESSAGES (20 000) messages preloaded PENDING for one destination pointing at
//      the same receiver: messages delivered per second, as a fraction of the yardstick.
//   BENCH_DIALECTS=sqlite,postgres BENCH_DELIVERY_MESSAGES=20000 npm run bench:delivery
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { Pool } from 'undici';
import type { Dialect } from '../src/db/connect.js';
import { envelope, newMessageId } from '../src/outbox/outbox.write.js';
import { createTestDatabase } from '../test/helpers/databases.js';
import { addDestination } from '../test/helpers/destinations.js';
import { firstLine, startProcess } from './processes.js';
import { prepareRuntime, ROOT, startService } from './targets.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const MESSAGES = Number(process.env.BENCH_DELIVERY_MESSAGES ?? 20_000);
const dialects = (process.env.BENCH_DIALECTS ?? 'sqlite').split(',') as Dialect[];

/** A chat summary's envelope of the size the gate's bench events make (~1 KB). */
const payload = (i: number) =>
  envelope(
    {
      type: 'chat_summary.processed',
      dealerUuid: `dealer-${i % 10}`,
      sourceId: `req-${i}`,
      data: {
        requestId: `019ab0a3-5c1e-7a42-9f3d-${String(i).padStart(12, '0')}`,
        partner: 'bench-partner',
        dealerUuid: `dealer-${i % 10}`,
        eventType: 'vehicle-service-chat',
        record: { summary: 'Customer reports a squeal from the front wheels when braking.'.repeat(12), n: i },
      },
    },
    Date.now(),
  );

async function startReceiver() {
  const tracked = startProcess(process.execPath, ['--import', 'tsx', `${ROOT}bench/receiver.ts`], { name: 'receiver', stdout: 'pipe' });
  const port = Number(await firstLine(tracked));
  if (!port) throw new Error('the receiver did not print its port');
  return { port, stop: () => tracked.stop() };
}

/** The yardstick: CONNECTIONS POSTs in flight at all times for SECONDS; requests per second. */
async function yardstick(port: number): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS });
  const body = payload(1);
  let done = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < until) {
        const res = await pool.request({ path: '/in', method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.body.dump();
        done++;
      }
    }),
  );
  await pool.close();
  return done / SECONDS;
}

async function serviceRun(dialect: Dialect, port: number, yardstickRate: number): Promise<void> {
  const scratch = await createTestDatabase(dialect);
  try {
    const db = scratch.db.kysely;
    await addDestination(db, 'bench-receiver', `http://127.0.0.1:${port}/in`, { eventTypes: ['chat_summary.processed'] });
    const now = Date.now();
    for (let i = 0; i < MESSAGES; i += 1000) {
      const rows = Array.from({ length: Math.min(1000, MESSAGES - i) }, (_, j) => ({
        id: newMessageId(),
        destination: 'bench-receiver',
        event_type: 'chat_summary.processed',
        dealer_uuid: `dealer-${(i + j) % 10}`,
        ordering_key: `dealer-${(i + j) % 10}`,
        source_id: `req-${i + j}`,
        payload: payload(i + j),
        created_at: now,
        status: 'PENDING',
        next_attempt_at: now,
      }));
      await db.insertInto('outbox_messages').values(rows).execute();
    }
    // Statistics as a running system has them (autovacuum analyzes a table within a minute of a
    // burst): without them PostgreSQL sorts every waiting message on each claim.
    if (dialect === 'postgres') await sql`ANALYZE outbox_messages`.execute(db);
    const service = await startService(`service-${dialect}`, scratch.url, { DELIVERY_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8' });
    try {
      // The service starts sending as soon as it is up: time from its first delivery to its last.
      let first = 0;
      let delivered = 0;
      const deadline = performance.now() + 600_000;
      for (;;) {
        const row = await db
          .selectFrom('outbox_messages')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('status', '=', 'DELIVERED')
          .executeTakeFirstOrThrow();
        delivered = Number(row.n);
        if (delivered > 0 && first === 0) first = performance.now();
        if (delivered >= MESSAGES || performance.now() > deadline) break;
        await sleep(50);
      }
      const seconds = (performance.now() - first) / 1000;
      const rate = delivered / Math.max(seconds, 0.001);
      const { peakMb } = await service.stop();
      process.stdout.write(
        `service (${dialect}, default configuration, gate idle): ${delivered} messages in ${seconds.toFixed(1)} s = ` +
          `${rate.toFixed(0)} deliveries/s, ${(rate / yardstickRate).toFixed(2)}× the yardstick; RSS ${service.idleMb} MB idle, ${peakMb} MB peak\n`,
      );
    } finally {
      await service.stop();
    }
  } finally {
    await scratch.destroy();
  }
}

await prepareRuntime();
const receiver = await startReceiver();
try {
  const rate = await yardstick(receiver.port);
  process.stdout.write(`yardstick (bare undici.Pool, ${CONNECTIONS} connections, ${SECONDS} s): ${rate.toFixed(0)} POSTs/s\n`);
  for (const dialect of dialects) await serviceRun(dialect, receiver.port, rate);
} finally {
  await receiver.stop();
}
