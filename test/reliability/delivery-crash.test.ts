// Delivery survives SIGKILL: `dealer-gateway serve` (default configuration: worker and sender in
// the storage thread) takes chat events under load while a destination subscribed to their
// outcomes receives them, and the service is SIGKILLed at random moments, ROUNDS times. At the
// end (one last restart; everything drains) every PROCESSED event has exactly one message — the
// outbox is written in the outcome's commit — and every message reached the receiver, signed;
// a message arrives twice only if a kill caught it in flight (at most ROUNDS × the concurrency).
//
// Nothing here measures speed: deadlines only bound how long the test waits.
import assert from 'node:assert/strict';
import http, { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { freePort } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { addDestination } from '../helpers/destinations.js';
import { EVENTS_URL, onePartnerFixture, VIN_1 } from '../helpers/events.js';
import { killHard, type ServiceProcess, serviceClient, sigkillRounds, startService, waitUntilDone } from '../helpers/service-process.js';
import { basic } from '../helpers/suite.js';

const HOST = '127.0.0.1';
const ROUNDS = 3;
const CLIENTS = 8;
const KILL_AFTER_MS: readonly [number, number] = [1_500, 4_000];
const CONCURRENCY = 32;
const DRAIN_TIMEOUT_MS = 90_000;
const USERNAME = 'delivery-crash';
const PASSWORD = 'delivery-crash-pass-1';
const { request, waitReady } = serviceClient({ host: HOST, auth: basic(USERNAME, PASSWORD), timeoutMs: 30_000, startTimeoutMs: 60_000 });
const PARTNER_DEALER_ID = 'DLV-9';

const eventBody = (n: number) =>
  JSON.stringify({
    customer_name: 'Jane Doe',
    vin: VIN_1,
    chat_code: `DLV-${String(n).padStart(7, '0')}`,
    vehicle_uuid: 'v-1',
    dealer_uuid: PARTNER_DEALER_ID,
    event_timestamp: 1_700_000_000_000 + n,
    summary: 'Customer asks for a tyre rotation.',
  });

for (const dialect of testDialects()) {
  test(`delivery crash [${dialect}]: serve SIGKILLed ${ROUNDS} times while delivering loses no message`, {
    timeout: 240_000,
  }, async (t: TestContext) => {
    const procs: ServiceProcess[] = [];
    const agents: http.Agent[] = [];
    const received = new Map<string, number>();
    const bodies = new Map<string, { body: string; headers: http.IncomingHttpHeaders }>();
    let tdb: TestDatabase | undefined;
    let receiver: Server | undefined;
    const tails = () => procs.map((p) => p.tail()).join('\n');
    try {
      // The receiver: answers after 0–30 ms (so kills find messages in flight), 1 in 20 with a 500.
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const id = String(req.headers['webhook-id']);
          setTimeout(() => {
            if (Math.random() < 0.05) {
              res.writeHead(500).end();
              return;
            }
            received.set(id, (received.get(id) ?? 0) + 1);
            bodies.set(id, { body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
            res.writeHead(204).end();
          }, Math.random() * 30);
        });
      });
      await new Promise<void>((resolve) => receiver?.listen(0, HOST, resolve));
      const receiverPort = (receiver.address() as AddressInfo).port;

      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, onePartnerFixture(USERNAME, PASSWORD, PARTNER_DEALER_ID));
      const { secret } = await addDestination(tdb.db.kysely, 'crash-receiver', `http://${HOST}:${receiverPort}/in`, {
        eventTypes: ['chat_summary.processed'],
        retrySchedule: [0, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      });
      const port = await freePort();
      const env = {
        DATABASE_URL: tdb.url,
        PORT: String(port),
        HOST,
        LOG_LEVEL: 'warn',
        WORKER_LEASE_MS: '2000',
        DELIVERY_TIMEOUT_MS: '1000',
        DELIVERY_CONCURRENCY: String(CONCURRENCY),
        DELIVERY_POLL_MS: '200',
        DELIVERY_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
      };
      const start = () => {
        const proc = startService('serve', ['serve'], env);
        procs.push(proc);
        return proc;
      };

      let stop = false;
      let next = 0;
      let acknowledged = 0;
      const lane = async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        agents.push(agent);
        while (!stop) {
          try {
            const answer = await request(port, agent, 'POST', EVENTS_URL, eventBody(next++));
            if (answer.status === 200) acknowledged++;
            else await sleep(20);
          } catch {
            await sleep(20); // down or killed under this request: not acknowledged
          }
        }
      };

      let current = start();
      await waitReady(current, port);
      const lanes = Array.from({ length: CLIENTS }, lane);
      current = await sigkillRounds(current, {
        rounds: ROUNDS,
        killAfterMs: KILL_AFTER_MS,
        start,
        ready: (proc) => waitReady(proc, port),
        tails,
      });
      await sleep(500);
      stop = true;
      await Promise.all(lanes);

      const db = tdb.db.kysely;
      await waitUntilDone(
        current,
        async () => {
          const events = await db.selectFrom('events').select('request_id').where('status', '=', 'RECEIVED').execute();
          const messages = await db.selectFrom('outbox_messages').select('id').where('status', '=', 'PENDING').execute();
          return { count: events.length + messages.length, what: `${events.length} events and ${messages.length} messages still waiting` };
        },
        DRAIN_TIMEOUT_MS,
        tails,
      );

      const processed = await db.selectFrom('events').select('request_id').where('status', '=', 'PROCESSED').execute();
      const messages = await db.selectFrom('outbox_messages').select(['id', 'source_id', 'status']).execute();
      const perEvent = new Map<string, number>();
      for (const m of messages) perEvent.set(m.source_id, (perEvent.get(m.source_id) ?? 0) + 1);
      const withoutMessage = processed.filter((e) => perEvent.get(e.request_id) !== 1).map((e) => e.request_id);
      const processedIds = new Set(processed.map((e) => e.request_id));
      const orphans = messages.filter((m) => !processedIds.has(m.source_id)).map((m) => m.id);
      const notDelivered = messages.filter((m) => m.status !== 'DELIVERED').map((m) => `${m.id} ${m.status}`);
      const neverReceived = messages.filter((m) => !received.has(m.id)).map((m) => m.id);
      const duplicates = [...received.values()].reduce((sum, n) => sum + n - 1, 0);
      const summary =
        `delivery crash [${dialect}]: ${acknowledged} acknowledged, ${processed.length} processed, ${messages.length} messages, ` +
        `${received.size} received, ${duplicates} received twice or more, ${ROUNDS} kills`;
      t.diagnostic(summary);

      assert.ok(processed.length >= acknowledged && acknowledged > 0, summary);
      assert.deepEqual(withoutMessage, [], `PROCESSED events without exactly one message\n${summary}`);
      assert.deepEqual(orphans, [], `messages without a PROCESSED event\n${summary}`);
      assert.deepEqual(notDelivered, [], `messages not DELIVERED\n${summary}\n${tails()}`);
      assert.deepEqual(neverReceived, [], `messages the receiver never got\n${summary}`);
      assert.ok(duplicates <= ROUNDS * CONCURRENCY, `more duplicates than messages in flight at the kills\n${summary}`);
      const verifier = new Webhook(secret);
      for (const [id, { body, headers }] of bodies) {
        verifier.verify(body, {
          'webhook-id': id,
          'webhook-timestamp': String(headers['webhook-timestamp']),
          'webhook-signature': String(headers['webhook-signature']),
        });
      }
    } finally {
      for (const agent of agents) agent.destroy();
      await Promise.all(procs.map(killHard));
      receiver?.close();
      await tdb?.destroy();
    }
  });
}
