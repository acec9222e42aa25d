// What the delivery scenarios drive and read: the no-op receiver in its own process
// (bench/receiver.ts), the yardstick of bare undici POSTs to it, the outbox preloaded with
// messages, and the outbox's counts polled from outside the service.
import { type Kysely, sql } from 'kysely';
import { Pool } from 'undici';
import type { Dialect } from '../src/db/connect.js';
import type { Database } from '../src/db/schema.js';
import { envelope, newMessageId } from '../src/outbox/outbox.write.js';
import { firstLine, startProcess } from './processes.js';
import { ROOT } from './targets.js';

export interface ReceiverStats {
  readonly received: number;
  readonly lagged: number;
  readonly lagP50Ms: number | null;
  readonly lagP99Ms: number | null;
  readonly lagMaxMs: number | null;
}

export interface Receiver {
  readonly port: number;
  readonly url: string;
  stats(): Promise<ReceiverStats>;
  reset(): Promise<void>;
  stop(): Promise<unknown>;
}

export async function startReceiver(): Promise<Receiver> {
  const tracked = startProcess(process.execPath, ['--import', 'tsx', `${ROOT}bench/receiver.ts`], { name: 'receiver', stdout: 'pipe' });
  const port = Number(await firstLine(tracked));
  if (!port) {
    await tracked.stop();
    throw new Error('the receiver did not print its port');
  }
  const base = `http://127.0.0.1:${port}`;
  return {
    port,
    url: `${base}/in`,
    stats: async () => (await (await fetch(`${base}/stats`)).json()) as ReceiverStats,
    reset: async () => {
      await fetch(`${base}/stats/reset`, { method: 'POST' });
    },
    stop: () => tracked.stop(),
  };
}

/** A chat summary's envelope of the size the gate's bench events make (~1 KB). */
export const benchPayload = (i: number) =>
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

/** The yardstick: `connections` POSTs of benchPayload in flight at all times for `seconds`; POSTs per second. */
export async function yardstick(receiver: Receiver, connections: number, seconds: number): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${receiver.port}`, { connections });
  const body = benchPayload(1);
  let done = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const res = await pool.request({ path: '/in', method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.body.dump();
        done++;
      }
    }),
  );
  await pool.close();
  return done / seconds;
}

/** Empties the outbox and the destinations, so each scenario starts with none. */
export async function resetDelivery(db: Kysely<Database>): Promise<void> {
  await db.deleteFrom('delivery_attempts').execute();
  await db.deleteFrom('outbox_messages').execute();
  await db.deleteFrom('destinations').execute();
}

/** `count` PENDING messages for `destination`, due now, ten dealers in turn. */
export async function preloadMessages(db: Kysely<Database>, dialect: Dialect, destination: string, count: number): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < count; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({
      id: newMessageId(),
      destination,
      event_type: 'chat_summary.processed',
      dealer_uuid: `dealer-${(i + j) % 10}`,
      ordering_key: `dealer-${(i + j) % 10}`,
      source_id: `req-${i + j}`,
      payload: benchPayload(i + j),
      created_at: now,
      status: 'PENDING',
      next_attempt_at: now,
    }));
    await db.insertInto('outbox_messages').values(rows).execute();
  }
  // Statistics as a running system has them (autovacuum analyzes a table within a minute of a
  // burst): without them PostgreSQL sorts every waiting message on each claim.
  if (dialect === 'postgres') await sql`ANALYZE outbox_messages`.execute(db);
}

export interface OutboxCounts {
  readonly total: number;
  readonly delivered: number;
  /** Created and not delivered yet (PENDING, leased or not; FAILED would be a dead letter). */
  readonly waiting: number;
}

export async function outboxCounts(db: Kysely<Database>): Promise<OutboxCounts> {
  const rows = await db
    .selectFrom('outbox_messages')
    .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy('status')
    .execute();
  const by = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  const total = rows.reduce((sum, r) => sum + Number(r.n), 0);
  return { total, delivered: by.DELIVERED ?? 0, waiting: total - (by.DELIVERED ?? 0) };
}

/** Polls every `everyMs` while `during` runs: the most messages waiting at once. */
export async function largestBacklog<T>(
  db: Kysely<Database>,
  everyMs: number,
  during: Promise<T>,
): Promise<{ result: T; maxWaiting: number }> {
  let maxWaiting = 0;
  let done = false;
  const polling = (async () => {
    while (!done) {
      maxWaiting = Math.max(maxWaiting, (await outboxCounts(db)).waiting);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  try {
    return { result: await during, maxWaiting };
  } finally {
    done = true;
    await polling;
  }
}

/** Waits until every message made so far is delivered (or `timeoutMs`); the seconds it took. */
export async function waitDelivered(db: Kysely<Database>, timeoutMs: number): Promise<{ seconds: number; left: number }> {
  const start = performance.now();
  for (;;) {
    const { waiting } = await outboxCounts(db);
    const seconds = (performance.now() - start) / 1000;
    if (waiting === 0 || seconds * 1000 > timeoutMs) return { seconds, left: waiting };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
