// Lead e-mails survive SIGKILL: `dealer-gateway serve` (default configuration) takes lead saves
// for two dealers while an email destination (per-dealer order, ADF documents) mails every save
// to an SMTP server in this process, and the service is SIGKILLed at random moments, ROUNDS
// times. At the end (one last restart; everything drains) every acknowledged save has its
// message, every message reached the SMTP server, each dealer's mails first arrived in the order
// the saves were committed, and a mail arrived twice only if a kill caught it in flight (one per
// dealer at a time: at most ROUNDS × the dealers).
//
// Nothing here measures speed: deadlines only bound how long the test waits.
import assert from 'node:assert/strict';
import http from 'node:http';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { freePort } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { addDestination } from '../helpers/destinations.js';
import { leadBody } from '../helpers/fixtures.js';
import { killHard, type ServiceProcess, serviceClient, sigkillRounds, startService, waitUntilDone } from '../helpers/service-process.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { basic } from '../helpers/suite.js';

const HOST = '127.0.0.1';
const ROUNDS = 3;
const DEALERS = ['d-1', 'd-2'] as const;
const LANES_PER_DEALER = 2;
const KILL_AFTER_MS: readonly [number, number] = [1_500, 4_000];
const DRAIN_TIMEOUT_MS = 120_000;
const USERNAME = 'email-crash';
const PASSWORD = 'email-crash-pass-1';
const { request, waitReady } = serviceClient({ host: HOST, auth: basic(USERNAME, PASSWORD), timeoutMs: 30_000, startTimeoutMs: 60_000 });

const fixture = {
  dealers: DEALERS.map((uuid) => ({ uuid, name: `Dealer ${uuid}` })),
  subscribers: [{ username: USERNAME, password: PASSWORD, grants: [{ scope: 'lead.write', dealers: [...DEALERS] }] }],
  customers: DEALERS.map((dealer) => ({
    dealer,
    uuid: `c-${dealer}`,
    firstName: 'Jane',
    lastName: 'Doe',
    email: 'jane.doe@example.com',
    vehicles: [{ uuid: `v-${dealer}`, vin: '1HGCM82633A004352', year: 2019, make: 'Honda', model: 'Accord' }],
  })),
};

for (const dialect of testDialects()) {
  test(`email crash [${dialect}]: serve SIGKILLed ${ROUNDS} times while mailing leads loses none, keeps each dealer's order`, {
    timeout: 300_000,
  }, async (t: TestContext) => {
    const procs: ServiceProcess[] = [];
    const agents: http.Agent[] = [];
    let tdb: TestDatabase | undefined;
    const tails = () => procs.map((p) => p.tail()).join('\n');
    // Accepts every mail after 0–30 ms, so kills find mails in flight.
    const smtp = await startSmtpServer({ acceptAfterMs: () => Math.random() * 30 });
    try {
      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, fixture);
      await addDestination(tdb.db.kysely, 'crm-inbox', null as unknown as string, {
        kind: 'email',
        url: null,
        format: 'adf-xml',
        to: ['leads@crm.example'],
        eventTypes: ['lead.created', 'lead.updated'],
        ordering: 'per-dealer',
        retrySchedule: [0, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      });
      const port = await freePort();
      const env = {
        DATABASE_URL: tdb.url,
        PORT: String(port),
        HOST,
        LOG_LEVEL: 'warn',
        DELIVERY_TIMEOUT_MS: '2000',
        DELIVERY_POLL_MS: '200',
        SMTP_URL: smtp.url,
        SMTP_ALLOW_INSECURE: 'true',
      };
      const start = () => {
        const proc = startService('serve', ['serve'], env);
        procs.push(proc);
        return proc;
      };

      let stop = false;
      let next = 0;
      let acknowledged = 0;
      const lane = async (dealer: string) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        agents.push(agent);
        while (!stop) {
          try {
            const body = JSON.stringify(
              leadBody({
                leadId: `CRASH-${String(next++).padStart(6, '0')}`,
                customer: { uuid: `c-${dealer}` },
                vehicle: { uuid: `v-${dealer}` },
              }),
            );
            const answer = await request(port, agent, 'POST', `/leads/v2/dealer/${dealer}`, body);
            if (answer.status === 200) acknowledged++;
            // A steady stream, not a flood: one dealer's mails go one at a time.
            await sleep(20);
          } catch {
            await sleep(20); // down or killed under this request: not acknowledged
          }
        }
      };

      let current = start();
      await waitReady(current, port);
      const lanes = DEALERS.flatMap((dealer) => Array.from({ length: LANES_PER_DEALER }, () => lane(dealer)));
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
          const waiting = await db.selectFrom('outbox_messages').select('id').where('status', '=', 'PENDING').execute();
          return { count: waiting.length, what: `${waiting.length} messages still waiting` };
        },
        DRAIN_TIMEOUT_MS,
        tails,
      );

      const leads = await db.selectFrom('leads').select(['prospect_uuid', 'save_count']).execute();
      const saves = leads.reduce((sum, l) => sum + l.save_count, 0);
      const messages = await db.selectFrom('outbox_messages').select(['id', 'dealer_uuid', 'status', 'seq']).orderBy('seq').execute();
      const mailIdOf = (id: string) => `${id}@dealer-gateway`;
      const seen = new Map<string, number>();
      const arrivals = smtp.mails.map((m) => m.messageId);
      for (const id of arrivals) seen.set(id, (seen.get(id) ?? 0) + 1);
      const notDelivered = messages.filter((m) => m.status !== 'DELIVERED').map((m) => `${m.id} ${m.status}`);
      const neverReceived = messages.filter((m) => !seen.has(mailIdOf(m.id))).map((m) => m.id);
      const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
      const summary =
        `email crash [${dialect}]: ${acknowledged} acknowledged, ${saves} saves, ${messages.length} messages, ` +
        `${seen.size} mailed, ${duplicates} mailed twice or more, ${ROUNDS} kills`;
      t.diagnostic(summary);

      assert.ok(saves >= acknowledged && acknowledged > 0, summary);
      assert.equal(messages.length, saves, `one message per committed save\n${summary}`);
      assert.deepEqual(notDelivered, [], `messages not DELIVERED\n${summary}\n${tails()}`);
      assert.deepEqual(neverReceived, [], `messages the SMTP server never got\n${summary}`);
      assert.ok(duplicates <= ROUNDS * DEALERS.length, `more duplicates than mails in flight at the kills\n${summary}`);
      // Each dealer's mails, first arrivals only, are in the order of its messages (commit order).
      const firstArrival = [...new Set(arrivals)];
      for (const dealer of DEALERS) {
        const expected = messages.filter((m) => m.dealer_uuid === dealer).map((m) => mailIdOf(m.id));
        const wanted = new Set(expected);
        assert.deepEqual(
          firstArrival.filter((id) => wanted.has(id)),
          expected,
          `${dealer}'s mails out of order\n${summary}`,
        );
      }
    } finally {
      for (const agent of agents) agent.destroy();
      await Promise.all(procs.map(killHard));
      await smtp.close();
      await tdb?.destroy();
    }
  });
}
