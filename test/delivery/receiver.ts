// Shared by the delivery loop's tests (deliverer*.test.ts): a webhook receiver (an HTTP server in
// this process whose answer per request a test decides) and a per-dialect harness that makes
// destinations, enqueues messages, starts Deliverers and cleans all of it up after each test.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, afterEach, before } from 'node:test';
import type { Selectable } from 'kysely';
import pino from 'pino';
import { type DeliveryConfig, loadConfig } from '../../src/core/config.js';
import type { Db, Dialect } from '../../src/db/connect.js';
import type { Database, DestinationRow, OutboxMessageRow } from '../../src/db/schema.js';
import { Deliverer } from '../../src/delivery/deliverer.js';
import { BREAKER_THRESHOLD, type HealthChange, type RecordedAttempt } from '../../src/delivery/delivery.repository.js';
import { type DestinationSpec, insertDestination } from '../../src/outbox/destination.repository.js';
import type { Outbound } from '../../src/outbox/outbound-types.js';
import { enqueueMessages } from '../../src/outbox/outbox.write.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { destinationSpec } from '../helpers/destinations.js';

export { BREAKER_THRESHOLD };

/** One request as the receiver saw it, with what it answered. */
interface Received {
  /** The webhook-id header. */
  readonly id: string;
  readonly path: string;
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
  /** Date.now() when the whole request had arrived. */
  readonly at: number;
  /** This request's number among those with the same webhook-id (1 for the first). */
  readonly n: number;
  /** The status answered (undefined: no answer, see Answer). */
  status?: number;
}

/**
 * What the receiver does with a request: an answer (after `delayMs`), or never answering
 * (`hang`), closing the connection without a word (`destroy`), resetting it (`rst`), or sending
 * the status and headers and then a body that never ends (`trickle`).
 */
type Answer =
  | { status: number; headers?: Record<string, string>; body?: string | Buffer; delayMs?: number }
  | 'hang'
  | 'destroy'
  | 'rst'
  | 'trickle';

export interface Receiver {
  readonly received: Received[];
  answer: (req: Received) => Answer;
  /** The URL of `path` on this receiver, by `host` (default: the address it listens on). */
  url(path?: string, host?: string): string;
  readonly port: number;
  close(): Promise<void>;
}

/** A receiver listening on `host` (default 127.0.0.1) that answers 204 unless told otherwise. */
async function startReceiver(answer: (req: Received) => Answer = () => ({ status: 204 }), host = '127.0.0.1'): Promise<Receiver> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, work: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, ms);
    timers.add(timer);
  };
  const state: { answer: (req: Received) => Answer } = { answer };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      const got: Received = {
        id,
        path: req.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
        headers: req.headers,
        at: Date.now(),
        n: received.filter((r) => r.id === id).length + 1,
      };
      received.push(got);
      const answer = state.answer(got);
      if (answer === 'hang') return;
      if (answer === 'destroy') return void req.socket.destroy();
      if (answer === 'rst') return void req.socket.resetAndDestroy();
      if (answer === 'trickle') {
        got.status = 200;
        res.writeHead(200, { 'content-type': 'text/plain' });
        const drip = () => {
          if (res.destroyed) return;
          res.write('.');
          later(50, drip);
        };
        drip();
        return;
      }
      const send = () => {
        got.status = answer.status;
        res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? 'ok');
      };
      if (answer.delayMs) later(answer.delayMs, send);
      else send();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const own = host.includes(':') ? `[${host}]` : host;
  return {
    received,
    get answer() {
      return state.answer;
    },
    set answer(fn) {
      state.answer = fn;
    },
    port,
    url: (path = '/hooks/in', on = own) => `http://${on}:${port}${path}`,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const DEALERS = [
  '11111111-1111-4111-8111-111111111111',
  '22222222-2222-4222-8222-222222222222',
  '33333333-3333-4333-8333-333333333333',
];

/** A destination subscribed to everything the tests enqueue, with a schedule of immediate retries. */
/** Message i (data.n = i) of dealer `dealer` (by default one of DEALERS in turn). */
export const outbound = (i: number, dealer = DEALERS[i % DEALERS.length] as string): Outbound => ({
  type: 'chat_summary.processed',
  dealerUuid: dealer,
  sourceId: `req-${i}`,
  data: { requestId: `req-${i}`, n: i },
});

export const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/** data.n of a request's (or a message's) JSON envelope. */
export const nOf = (body: string): number => (JSON.parse(body) as { data: { n: number } }).data.n;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type AttemptRow = Selectable<Database['delivery_attempts']>;

export interface Harness {
  readonly tdb: TestDatabase;
  readonly dialect: Dialect;
  /** A delivery config: 50 ms polls, loopback allowed, then `env`. */
  config(env?: Record<string, string>): DeliveryConfig;
  /** Starts a Deliverer (stopped after the test). */
  start(options?: {
    config?: DeliveryConfig;
    db?: Db;
    onRecorded?: (recorded: readonly RecordedAttempt[]) => void;
    onHealthChange?: (change: HealthChange) => void;
  }): Deliverer;
  /** A receiver closed after the test. */
  receiver(answer?: (req: Received) => Answer, host?: string): Promise<Receiver>;
  /** Inserts a destination (deleted after the test, which deletes its messages). */
  destination(name: string, url: string, overrides?: Partial<DestinationSpec>): Promise<DestinationSpec>;
  /** Enqueues in one transaction, as an outcome's commit does. */
  enqueue(items: readonly Outbound[]): Promise<void>;
  messages(destination: string): Promise<OutboxMessageRow[]>;
  /** The attempt log of a destination's messages, in the order written. */
  attempts(destination: string): Promise<AttemptRow[]>;
  destinationRow(name: string): Promise<DestinationRow>;
}

/** Registers before/after hooks in the calling describe(): a fresh database of `dialect`, cleaned after each test. */
export function useHarness(dialect: Dialect): Harness {
  let tdb: TestDatabase | undefined;
  const deliverers: Deliverer[] = [];
  const receivers: Receiver[] = [];
  const destinations: string[] = [];
  const db = () => (tdb as TestDatabase).db.kysely;
  const config = (env: Record<string, string> = {}) =>
    loadConfig({ DELIVERY_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8,::1', DELIVERY_POLL_MS: '50', ...env }).delivery;

  before(async () => {
    tdb = await createTestDatabase(dialect);
  });
  afterEach(async () => {
    for (const d of deliverers.splice(0)) await d.stop();
    for (const name of destinations.splice(0)) await db().deleteFrom('destinations').where('name', '=', name).execute();
    for (const r of receivers.splice(0)) await r.close();
  });
  after(async () => {
    await tdb?.destroy();
  });

  return {
    get tdb() {
      return tdb as TestDatabase;
    },
    dialect,
    config,
    start(options = {}) {
      const d = new Deliverer({
        db: options.db ?? (tdb as TestDatabase).db,
        config: options.config ?? config(),
        log: pino({ level: process.env.DELIVERY_TEST_LOG ?? 'silent' }), // DELIVERY_TEST_LOG=warn: see what the loop logs
        userAgent: 'dealer-gateway/test',
        ...(options.onRecorded ? { onRecorded: options.onRecorded } : {}),
        ...(options.onHealthChange ? { onHealthChange: options.onHealthChange } : {}),
      });
      deliverers.push(d);
      d.start();
      return d;
    },
    async receiver(answer, host) {
      const r = await startReceiver(answer, host);
      receivers.push(r);
      return r;
    },
    async destination(name, url, overrides = {}) {
      // Retried at once, five attempts: the tests' schedule unless they give their own.
      const s = destinationSpec(name, url, { retrySchedule: [0, 0, 0, 0, 0], ...overrides });
      await insertDestination(db(), s, Date.now());
      destinations.push(name);
      return s;
    },
    async enqueue(items) {
      await db()
        .transaction()
        .execute((trx) => enqueueMessages(trx, items, Date.now()));
    },
    messages: (destination) =>
      db().selectFrom('outbox_messages').selectAll().where('destination', '=', destination).orderBy('seq').execute(),
    attempts: (destination) =>
      db()
        .selectFrom('delivery_attempts as a')
        .innerJoin('outbox_messages as m', 'm.id', 'a.message_id')
        .selectAll('a')
        .where('m.destination', '=', destination)
        .orderBy('a.id')
        .execute(),
    destinationRow: (name) => db().selectFrom('destinations').selectAll().where('name', '=', name).executeTakeFirstOrThrow(),
  };
}
