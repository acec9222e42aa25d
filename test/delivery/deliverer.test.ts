// The delivery loop against a real receiver (an HTTP server in this process), on both databases:
// every message arrives, signed (checked with the independent `standardwebhooks` package);
// failures are retried on the destination's schedule; 410 disables it; 429 honours Retry-After;
// per-dealer ordering holds under retries; ten failures in a row open the breaker.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/core/config.js';
import { Deliverer } from '../../src/delivery/deliverer.js';
import { generateSecret } from '../../src/delivery/signature.js';
import { type DestinationSpec, insertDestination } from '../../src/outbox/destination.repository.js';
import type { Outbound } from '../../src/outbox/outbound-types.js';
import { enqueueMessages } from '../../src/outbox/outbox.write.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { waitFor } from '../helpers/suite.js';

interface Received {
  readonly id: string;
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
}

/** A receiver whose answer per request is decided by `answer` (default 204). */
function receiver(): {
  url: () => string;
  received: Received[];
  answer: (req: Received, n: number) => { status: number; headers?: Record<string, string> };
  server: Server;
} {
  const state = {
    received: [] as Received[],
    answer: (_req: Received, _n: number): { status: number; headers?: Record<string, string> } => ({ status: 204 }),
    server: undefined as unknown as Server,
    url: () => `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/hooks/in`,
  };
  state.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got = { id: String(req.headers['webhook-id']), body: Buffer.concat(chunks).toString('utf8'), headers: req.headers };
      state.received.push(got);
      const { status, headers } = state.answer(got, state.received.filter((r) => r.id === got.id).length);
      res.writeHead(status, headers ?? {}).end('ok');
    });
  });
  return state;
}

const DEALERS = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'];

function spec(name: string, url: string, overrides: Partial<DestinationSpec> = {}): DestinationSpec {
  return {
    name,
    url,
    eventTypes: ['chat_summary.processed', 'lead.created'],
    dealers: '*',
    secret: generateSecret(),
    ordering: 'none',
    retrySchedule: [0, 0, 0, 0, 0],
    rateLimit: null,
    enabled: true,
    ...overrides,
  };
}

const outbound = (i: number, dealer = DEALERS[i % DEALERS.length] as string): Outbound => ({
  type: 'chat_summary.processed',
  dealerUuid: dealer,
  sourceId: `req-${i}`,
  data: { requestId: `req-${i}`, n: i },
});

for (const dialect of testDialects()) {
  describe(`delivery loop [${dialect}]`, () => {
    let tdb: TestDatabase;
    const rx = receiver();
    const deliverers: Deliverer[] = [];
    const config = loadConfig({ DELIVERY_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8', DELIVERY_POLL_MS: '50' }).delivery;
    const start = () => {
      const d = new Deliverer({ db: tdb.db, config, log: pino({ level: 'silent' }), userAgent: 'dealer-gateway/test' });
      deliverers.push(d);
      d.start();
      return d;
    };
    const enqueue = async (items: Outbound[]) => {
      await tdb.db.kysely.transaction().execute((trx) => enqueueMessages(trx, items, Date.now()));
    };
    const statuses = async (destination: string) =>
      (await tdb.db.kysely.selectFrom('outbox_messages').select(['status']).where('destination', '=', destination).execute()).map(
        (r) => r.status,
      );

    before(async () => {
      tdb = await createTestDatabase(dialect);
      await new Promise<void>((resolve) => rx.server.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      for (const d of deliverers) await d.stop();
      rx.server.close();
      await tdb?.destroy();
    });

    test('every message arrives once, signed; the signature verifies with standardwebhooks', async () => {
      const destination = spec('all', `${rx.url()}?tenant=a`);
      await insertDestination(tdb.db.kysely, destination, Date.now());
      const deliverer = start();
      await enqueue(Array.from({ length: 300 }, (_, i) => outbound(i)));
      deliverer.wake();
      await waitFor('all delivered', async () => (await statuses('all')).every((s) => s === 'DELIVERED'));
      const mine = rx.received.filter((r) => JSON.parse(r.body).data.n !== undefined);
      assert.equal(mine.length, 300);
      assert.equal(new Set(mine.map((r) => r.id)).size, 300, 'each message once, each with its own webhook-id');
      const verifier = new Webhook(destination.secret);
      for (const r of mine) {
        const verified = verifier.verify(r.body, {
          'webhook-id': String(r.headers['webhook-id']),
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': String(r.headers['webhook-signature']),
        }) as { type: string; timestamp: string; data: { requestId: string } };
        assert.equal(verified.type, 'chat_summary.processed');
        assert.match(verified.timestamp, /^\d{4}-\d{2}-\d{2}T/);
        assert.equal(r.headers['content-type'], 'application/json');
      }
      const attempts = await tdb.db.kysely.selectFrom('delivery_attempts').select(['status_code', 'response_body']).execute();
      assert.equal(attempts.length, 300);
      assert.ok(attempts.every((a) => a.status_code === 204));
      await deliverer.stop();
    });
  });
}
