// Crash safety with real processes: `dealer-gateway serve` (default configuration: in-process
// worker in the storage thread) takes sustained concurrent load on the chat-event gate and is
// SIGKILLed at random moments, ROUNDS times, restarting each time on the same database. At the
// end (one last restart, the worker drains) every acknowledged requestId must be stored and
// PROCESSED with exactly one chat summary, and nothing may be half-stored: every events row has
// its event_bodies row and vice versa. Rows of requests whose connection died mid-flight may
// exist (never acknowledged): they must be complete and processed too.
//
// Nothing here measures speed: deadlines only bound how long the test waits.
import assert from 'node:assert/strict';
import http from 'node:http';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RawBuilder, sql } from 'kysely';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { freePort } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { EVENTS_URL, onePartnerFixture, VIN_1 } from '../helpers/events.js';
import { type Answer, killHard, running, type ServiceProcess, serviceClient, startService } from '../helpers/service-process.js';
import { basic } from '../helpers/suite.js';

const HOST = '127.0.0.1';
const ROUNDS = 5;
/** Concurrent clients, each with its own keep-alive connection. */
const CLIENTS = 24;
/** Each round the service takes load for a random time in this range before the SIGKILL. */
const KILL_AFTER_MS: readonly [number, number] = [1_500, 6_000];
/** Short, so claims a killed process held come back quickly (the rest is the default configuration). */
const LEASE_MS = 2_000;
const START_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;

const USERNAME = 'crash-partner';
const PASSWORD = 'crash-test-pass-1';
const AUTH = basic(USERNAME, PASSWORD);
const { request, waitReady } = serviceClient({ host: HOST, auth: AUTH, timeoutMs: REQUEST_TIMEOUT_MS, startTimeoutMs: START_TIMEOUT_MS });
const PARTNER_DEALER_ID = 'CRASH-77';

const FIXTURE = onePartnerFixture(USERNAME, PASSWORD, PARTNER_DEALER_ID);

/** A valid canonical chat summary; `n` makes each one distinct. */
function eventBody(n: number): string {
  return JSON.stringify({
    customer_name: 'Jane Doe',
    vin: VIN_1,
    chat_code: `CRASH-${String(n).padStart(7, '0')}`,
    vehicle_uuid: 'v-1',
    dealer_uuid: PARTNER_DEALER_ID,
    event_timestamp: 1_700_000_000_000 + n,
    summary: 'Customer reports a squeal from the front wheels when braking. Brake inspection booked.',
    escalation_flag: n % 10 === 0,
    line_items: [
      { description: 'Brake inspection', payable: false },
      { description: 'Front brake pads', payable: true },
    ],
    transcript: [{ customer: 'My brakes squeal when I stop.', assistant: 'Let us book a brake inspection.' }],
  });
}

// ---------------------------------------------------------------------------------------------
// The service process: output drained, a tail kept for failure messages.

const procs: ServiceProcess[] = [];

function startServe(env: Record<string, string>): ServiceProcess {
  const proc = startService('serve', ['serve'], env);
  procs.push(proc);
  return proc;
}

const randomBetween = ([lo, hi]: readonly [number, number]) => lo + Math.floor(Math.random() * (hi - lo));

async function count(tdb: TestDatabase, query: RawBuilder<{ n: number }>): Promise<number> {
  const { rows } = await query.execute(tdb.db.kysely);
  return Number(rows[0]?.n ?? 0);
}

for (const dialect of testDialects()) {
  test(`crash [${dialect}]: serve under load, SIGKILLed ${ROUNDS} times, loses and duplicates nothing`, {
    timeout: 240_000,
  }, async (t: TestContext) => {
    const t0 = Date.now();
    let tdb: TestDatabase | undefined;
    const agents: http.Agent[] = [];
    let current: ServiceProcess | undefined;
    const tails = () => procs.map((p) => p.tail()).join('\n');
    try {
      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, FIXTURE);
      const port = await freePort();
      const env = { DATABASE_URL: tdb.url, PORT: String(port), HOST, LOG_LEVEL: 'warn', WORKER_LEASE_MS: String(LEASE_MS) };

      const acknowledged: string[] = [];
      /** Requests that got no answer (connection refused or reset by the kill). */
      let unanswered = 0;
      const otherStatus = new Map<number, number>();
      let failure: Error | undefined;
      let stop = false;
      let next = 0;

      const lane = async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        agents.push(agent);
        while (!stop && !failure) {
          const n = next++;
          let answer: Answer;
          try {
            answer = await request(port, agent, 'POST', EVENTS_URL, eventBody(n));
          } catch (err) {
            // The process is down or died under this request: not acknowledged, may be stored.
            const code = (err as NodeJS.ErrnoException).code;
            if (code !== 'ECONNREFUSED' && code !== 'ECONNRESET' && code !== 'EPIPE' && code !== 'UND_ERR_SOCKET') {
              if (!/socket hang up/.test((err as Error).message)) failure ??= new Error(`event ${n}: ${(err as Error).message}`);
            }
            unanswered++;
            await sleep(20);
            continue;
          }
          if (answer.status === 200) {
            acknowledged.push((JSON.parse(answer.body) as { requestId: string }).requestId);
          } else if (answer.status === 503) {
            // Allowed (a storage thread dying answers 503, starting up), never acknowledged.
            otherStatus.set(answer.status, (otherStatus.get(answer.status) ?? 0) + 1);
            await sleep(20);
          } else {
            failure ??= new Error(`event ${n}: ${answer.status} ${answer.body}`);
          }
        }
      };

      current = startServe(env);
      await waitReady(current, port);
      const lanes = Array.from({ length: CLIENTS }, lane);
      const killDelays: number[] = [];
      const acksAtKill: number[] = [];
      for (let round = 1; round <= ROUNDS && !failure; round++) {
        const delay = randomBetween(KILL_AFTER_MS);
        killDelays.push(delay);
        await sleep(delay);
        if (!running(current.child)) assert.fail(`serve exited by itself in round ${round}\n${tails()}`);
        current.child.kill('SIGKILL');
        await current.exited;
        acksAtKill.push(acknowledged.length);
        // The clients keep hammering the closed port meanwhile (ECONNREFUSED, counted as unanswered).
        current = startServe(env);
        await waitReady(current, port);
      }
      // Load goes on against the last incarnation for a moment, then stops; it drains.
      await sleep(1_000);
      stop = true;
      await Promise.all(lanes);
      if (failure) assert.fail(`${failure.message}\n${tails()}`);

      const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
      for (;;) {
        const received = await count(tdb, sql<{ n: number }>`SELECT count(*) AS n FROM events WHERE status = 'RECEIVED'`);
        if (received === 0) break;
        if (!running(current.child)) assert.fail(`serve exited with ${received} events still RECEIVED\n${tails()}`);
        if (Date.now() > drainDeadline) assert.fail(`${received} events still RECEIVED after ${DRAIN_TIMEOUT_MS} ms\n${tails()}`);
        await sleep(250);
      }

      const events = await tdb.db.kysely.selectFrom('events').select(['request_id', 'status', 'attempts', 'last_error']).execute();
      const bodies = await tdb.db.kysely.selectFrom('event_bodies').select('request_id').execute();
      const summaries = await tdb.db.kysely.selectFrom('chat_summaries').select('request_id').execute();
      const byId = new Map(events.map((e) => [e.request_id, e]));
      const bodyIds = new Set(bodies.map((b) => b.request_id));
      const summaryCount = new Map<string, number>();
      for (const s of summaries) summaryCount.set(s.request_id, (summaryCount.get(s.request_id) ?? 0) + 1);
      const ackedSet = new Set(acknowledged);

      const missing = acknowledged.filter((id) => !byId.has(id));
      const notProcessed = events
        .filter((e) => e.status !== 'PROCESSED')
        .map((e) => `${e.request_id} ${e.status} attempts=${e.attempts} ${e.last_error ?? ''}`);
      const withoutBody = events.filter((e) => !bodyIds.has(e.request_id)).map((e) => e.request_id);
      const bodyWithoutEvent = [...bodyIds].filter((id) => !byId.has(id));
      const withoutSummary = events.filter((e) => !summaryCount.has(e.request_id)).map((e) => e.request_id);
      const summaryWithoutEvent = [...summaryCount.keys()].filter((id) => !byId.has(id));
      const duplicateSummaries = [...summaryCount.values()].filter((n) => n > 1).length;
      const duplicates = duplicateSummaries + (acknowledged.length - ackedSet.size);
      const processedAcked = acknowledged.filter((id) => byId.get(id)?.status === 'PROCESSED' && summaryCount.get(id) === 1).length;
      const unackedStored = events.filter((e) => !ackedSet.has(e.request_id)).length;

      const summary =
        `crash [${dialect}]: acknowledged ${acknowledged.length} / found ${acknowledged.length - missing.length} / ` +
        `processed ${processedAcked} / duplicates ${duplicates} / unacknowledged-but-stored ${unackedStored} / rounds ${killDelays.length}` +
        ` (kills after ${killDelays.map((d) => `${(d / 1000).toFixed(1)}s`).join(', ')}; acks at each kill ${acksAtKill.join(', ')};` +
        ` ${unanswered} requests unanswered, ${otherStatus.get(503) ?? 0} answered 503; ${((Date.now() - t0) / 1000).toFixed(1)}s)`;
      t.diagnostic(summary);

      const sample = (ids: readonly string[]) => `${ids.length}: ${ids.slice(0, 5).join(', ')}`;
      assert.equal(killDelays.length, ROUNDS, 'every round ran');
      assert.ok(acknowledged.length > 0, 'some events were acknowledged');
      assert.equal(ackedSet.size, acknowledged.length, 'the gate returned the same requestId twice');
      assert.deepEqual(missing, [], `acknowledged events missing ${sample(missing)}\n${summary}`);
      assert.deepEqual(withoutBody, [], `events rows without their body ${sample(withoutBody)}\n${summary}`);
      assert.deepEqual(bodyWithoutEvent, [], `event_bodies rows without their event ${sample(bodyWithoutEvent)}\n${summary}`);
      assert.deepEqual(notProcessed, [], `events not PROCESSED ${sample(notProcessed)}\n${summary}\n${tails()}`);
      assert.deepEqual(withoutSummary, [], `events without a chat summary ${sample(withoutSummary)}\n${summary}`);
      assert.deepEqual(summaryWithoutEvent, [], `chat summaries without an event ${sample(summaryWithoutEvent)}\n${summary}`);
      assert.equal(duplicates, 0, summary);
      assert.equal(processedAcked, acknowledged.length, summary);
    } finally {
      for (const agent of agents) agent.destroy();
      await Promise.all(procs.map(killHard));
      await tdb?.destroy();
    }
  });
}
