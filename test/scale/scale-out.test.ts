// Scale-out on PostgreSQL, with real processes: two API nodes that only ingest (WORKER_ENABLED=false)
// and two `dealer-gateway worker` processes share one database. 20 000 chat summary events go in
// through both API nodes; halfway through, one worker is SIGKILLed. Every acknowledged event must
// end PROCESSED with exactly one chat summary, and nothing unacknowledged may appear. The killed
// worker's claims come back after WORKER_LEASE_MS and the surviving worker finishes them.
//
// Nothing here measures speed: the deadlines only bound how long the test waits. The phases'
// durations are printed (as test diagnostics) with the summary line.
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
const EVENTS = 20_000;
/** Requests in flight at once, over both API nodes together. */
const CONCURRENCY = 48;
const LEASE_MS = 3_000;
const DRAIN_TIMEOUT_MS = 90_000;
const START_TIMEOUT_MS = 60_000;
/** A single request that takes longer than this fails the test (the service is stuck). */
const REQUEST_TIMEOUT_MS = 30_000;

const USERNAME = 'scale-partner';
const PASSWORD = 'scale-out-pass-1';
const AUTH = basic(USERNAME, PASSWORD);
/** HTTP through node:http (keep-alive agents for the load); every request carries the partner's credentials. */
const { request, waitReady } = serviceClient({ host: HOST, auth: AUTH, timeoutMs: REQUEST_TIMEOUT_MS, startTimeoutMs: START_TIMEOUT_MS });
/** The partner's own id for dealer d-1 (the integration's dealer map translates it). */
const PARTNER_DEALER_ID = 'SCALE-77';

const FIXTURE = onePartnerFixture(USERNAME, PASSWORD, PARTNER_DEALER_ID);

/** A valid canonical chat summary of about 0.9 KB; `n` makes each one distinct. */
function eventBody(n: number): string {
  return JSON.stringify({
    customer_name: 'Jane Doe',
    vin: VIN_1,
    chat_code: `SCALE-${String(n).padStart(6, '0')}`,
    vehicle_uuid: 'v-1',
    appointment_uuid: `appt-${n}`,
    dealer_uuid: PARTNER_DEALER_ID,
    event_timestamp: 1_700_000_000_000 + n,
    summary: 'Customer reports a squeal from the front wheels when braking, worse in the morning. Brake inspection booked.',
    escalation_flag: n % 10 === 0,
    line_items: [
      { description: 'Brake inspection', payable: false },
      { description: 'Front brake pads', payable: true },
      { description: 'Resurface front rotors', payable: true },
    ],
    transcript: [
      { customer: 'My brakes squeal when I stop.', assistant: 'Sorry to hear that. How long has it been happening?' },
      { customer: 'About two weeks, mostly in the morning.', assistant: 'Let us book a brake inspection. Does Tuesday at 9 work?' },
      { customer: 'Tuesday is fine.', assistant: 'Booked. You will get a quote before any work is done.' },
    ],
    media: [{ type: 'image', url: `https://cdn.example.com/chats/${n}/pads.jpg` }],
  });
}

// ---------------------------------------------------------------------------------------------
// Child processes: output is always drained (only a tail is kept, for failure messages), and
// every worker's "event processed" log lines are counted per worker.

interface Proc extends ServiceProcess {
  /** Request ids this process logged as PROCESSED (workers, LOG_LEVEL=debug). */
  readonly processed: Set<string>;
  /** "lease lost" log lines (the worker's outcome was not written; another worker owned the event). */
  leaseLost: number;
  /** True once the process logged "worker started". */
  started: boolean;
}

function startProcess(name: string, args: readonly string[], env: Record<string, string>): Proc {
  const onLine = (line: string) => {
    if (line.includes('"msg":"event processed"')) {
      const entry = JSON.parse(line) as { requestId?: string; status?: string };
      if (entry.status === 'PROCESSED' && entry.requestId) proc.processed.add(entry.requestId);
      return false; // One line per event: not worth keeping in the tail.
    }
    if (line.includes('"msg":"lease lost')) proc.leaseLost++;
    if (line.includes('"msg":"worker started"')) proc.started = true;
    return true;
  };
  const proc: Proc = Object.assign(startService(name, args, env, { onLine }), {
    processed: new Set<string>(),
    leaseLost: 0,
    started: false,
  });
  return proc;
}

async function waitWorkerStarted(proc: Proc): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!proc.started) {
    if (!running(proc.child)) throw new Error(`${proc.name} exited before it started\n${proc.tail()}`);
    if (Date.now() > deadline) throw new Error(`${proc.name} did not log "worker started" within ${START_TIMEOUT_MS} ms\n${proc.tail()}`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------

const seconds = (ms: number) => (ms / 1000).toFixed(1);

async function count(tdb: TestDatabase, query: RawBuilder<{ n: number }>): Promise<number> {
  const { rows } = await query.execute(tdb.db.kysely);
  return Number(rows[0]?.n ?? 0);
}

const skip = testDialects().includes('postgres') ? false : 'scale-out needs PostgreSQL (TEST_DIALECTS does not include postgres)';

test(`scale-out [postgres]: ${EVENTS} events through 2 API nodes and 2 workers, one worker SIGKILLed halfway`, {
  timeout: 180_000,
  skip,
}, async (t: TestContext) => {
  const t0 = Date.now();
  const phases: string[] = [];
  let phaseStart = t0;
  const phase = (name: string) => {
    const now = Date.now();
    phases.push(`${name} ${seconds(now - phaseStart)}s`);
    phaseStart = now;
  };

  const procs: Proc[] = [];
  const agents: http.Agent[] = [];
  let tdb: TestDatabase | undefined;
  const tails = () => procs.map((p) => p.tail()).join('\n');
  try {
    tdb = await createTestDatabase('postgres');
    await applyProvisioning(tdb.db.kysely, FIXTURE);
    const url = tdb.url;
    phase('setup');

    const bodySize = Buffer.byteLength(eventBody(EVENTS));
    assert.ok(bodySize >= 500 && bodySize <= 1024, `event body is ${bodySize} bytes`);

    // 1 + 2. Two API nodes (ingest only) and two workers, all on the same database.
    const ports = [await freePort(), await freePort()];
    const startApi = (i: number): Proc => {
      const proc = startProcess(`api-${i + 1}`, ['serve'], {
        DATABASE_URL: url,
        PORT: String(ports[i]),
        HOST,
        LOG_LEVEL: 'warn',
        WORKER_ENABLED: 'false',
      });
      procs.push(proc);
      return proc;
    };
    const startWorker = (i: number): Proc => {
      // LOG_LEVEL=debug: each worker logs one "event processed" line per event it committed,
      // which is how the test tells how many events each worker processed.
      const proc = startProcess(`worker-${i + 1}`, ['worker'], {
        DATABASE_URL: url,
        LOG_LEVEL: 'debug',
        WORKER_LEASE_MS: String(LEASE_MS),
        WORKER_POLL_MS: '200',
      });
      procs.push(proc);
      return proc;
    };
    // The first process alone: bin/dealer-gateway.js rebuilds dist/ when a source is newer, and
    // four processes must not race to do that. The other three then start together.
    const api1 = startApi(0);
    await waitReady(api1, ports[0] as number);
    const api2 = startApi(1);
    const workers = [startWorker(0), startWorker(1)];
    await Promise.all([waitReady(api2, ports[1] as number), ...workers.map(waitWorkerStarted)]);
    phase('start');

    // 3 + 4. Send everything through both nodes alternately; kill worker-1 at the halfway mark.
    const acknowledged: string[] = [];
    const agentOf = ports.map(() => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      agents.push(agent);
      return agent;
    });
    const victim = workers[0] as Proc;
    const survivor = workers[1] as Proc;
    let killedAt = 0;
    let heldAtKill = 0;
    let processedByVictimBeforeKill = 0;
    let halfway: () => void = () => {};
    const halfwayReached = new Promise<void>((resolve) => {
      halfway = resolve;
    });
    let failure: Error | undefined;
    const killer = (async () => {
      await halfwayReached;
      if (failure) return;
      // Kill it right after it claimed a batch if we see it do so within 3 s (claimed in the last
      // 20 ms: its lease ends LEASE_MS after the claim), so that it most likely dies holding
      // claims and the lease takeover is exercised; otherwise kill it anyway.
      const pattern = `%:${victim.child.pid}:%`;
      const deadline = Date.now() + 3_000;
      while (Date.now() < deadline) {
        const held = await count(
          tdb as TestDatabase,
          sql<{ n: number }>`SELECT count(*) AS n FROM events
            WHERE status = 'RECEIVED' AND locked_by LIKE ${pattern} AND locked_until >= ${Date.now() + LEASE_MS - 20}`,
        );
        if (held > 0) break;
        await sleep(5);
      }
      processedByVictimBeforeKill = victim.processed.size;
      victim.child.kill('SIGKILL');
      killedAt = acknowledged.length;
      await victim.exited;
      heldAtKill = await count(
        tdb as TestDatabase,
        sql<{ n: number }>`SELECT count(*) AS n FROM events WHERE status = 'RECEIVED' AND locked_by LIKE ${pattern}`,
      );
    })();

    // A partner does what HTTP/1.1 asks of a client (RFC 9112 §9.3.1): when a kept-alive
    // connection closes before any answer — the server timed it out as the request was being
    // sent, a race no server can rule out — it sends the request again, with the same
    // Idempotency-Key, so an event the gate had stored keeps its one requestId. Each retry is
    // counted and reported; an event is still never acknowledged twice nor lost.
    let retries = 0;
    const send = async (n: number, node: number): Promise<Answer> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await request(ports[node] as number, agentOf[node] as http.Agent, 'POST', EVENTS_URL, eventBody(n), {
            'idempotency-key': `scale-out-${n}`,
          });
        } catch (err) {
          const broken = /ECONNRESET|socket hang up|EPIPE/.test((err as Error).message);
          if (!broken || attempt === 3) throw err;
          retries++;
        }
      }
    };
    let next = 0;
    const sendStart = Date.now();
    const lane = async () => {
      while (next < EVENTS && !failure) {
        const n = next++;
        const node = n % 2;
        let answer: Answer;
        try {
          answer = await send(n, node);
        } catch (err) {
          failure ??= new Error(`event ${n} via api-${node + 1}: ${(err as Error).message}`);
          return;
        }
        if (answer.status !== 200) {
          failure ??= new Error(`event ${n} via api-${node + 1}: ${answer.status} ${answer.body}`);
          return;
        }
        acknowledged.push((JSON.parse(answer.body) as { requestId: string }).requestId);
        if (acknowledged.length === EVENTS / 2) halfway();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    const sendMs = Date.now() - sendStart;
    halfway(); // In case a failure stopped the lanes early.
    await killer;
    if (failure) assert.fail(`${failure.message}\n${tails()}`);
    phase('send');

    // 5. Wait until nothing is RECEIVED any more.
    const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
    let received = -1;
    for (;;) {
      received = await count(tdb, sql<{ n: number }>`SELECT count(*) AS n FROM events WHERE status = 'RECEIVED'`);
      if (received === 0) break;
      if (!running(survivor.child)) assert.fail(`the surviving worker exited with ${received} events still RECEIVED\n${tails()}`);
      if (Date.now() > drainDeadline) assert.fail(`${received} events still RECEIVED after ${DRAIN_TIMEOUT_MS} ms\n${tails()}`);
      await sleep(500);
    }
    phase('drain');

    const events = await tdb.db.kysely.selectFrom('events').select(['request_id', 'status', 'attempts', 'last_error']).execute();
    const summaries = await tdb.db.kysely.selectFrom('chat_summaries').select('request_id').execute();
    const byId = new Map(events.map((e) => [e.request_id, e]));
    const summaryIds = new Map<string, number>();
    for (const s of summaries) summaryIds.set(s.request_id, (summaryIds.get(s.request_id) ?? 0) + 1);
    const ackedSet = new Set(acknowledged);

    const missing = acknowledged.filter((id) => !byId.has(id));
    const notProcessed = acknowledged.flatMap((id) => {
      const e = byId.get(id);
      return e && e.status !== 'PROCESSED' ? [`${id} ${e.status} attempts=${e.attempts} ${e.last_error ?? ''}`] : [];
    });
    const extra = events.filter((e) => !ackedSet.has(e.request_id)).map((e) => e.request_id);
    const noSummary = acknowledged.filter((id) => !summaryIds.has(id));
    const strangerSummaries = [...summaryIds.keys()].filter((id) => !ackedSet.has(id));
    const duplicateSummaries = [...summaryIds.values()].filter((n) => n > 1).length;
    const processedCount = events.filter((e) => e.status === 'PROCESSED').length;
    const reclaimed = events.filter((e) => e.attempts > 1).length;
    // An event logged as PROCESSED by both workers would mean two committed outcomes.
    const processedByBoth = [...victim.processed].filter((id) => survivor.processed.has(id)).length;
    const duplicates = duplicateSummaries + processedByBoth + (acknowledged.length - ackedSet.size);

    const summary =
      `scale-out: acknowledged ${acknowledged.length} / found ${acknowledged.length - missing.length} / ` +
      `processed ${processedCount} / summaries ${summaries.length} / duplicates ${duplicates} / ` +
      `elapsed ${seconds(Date.now() - t0)}s (${phases.join(', ')}; ${Math.round((acknowledged.length * 1000) / sendMs)} acks/s, ${bodySize}-byte bodies) / ` +
      `worker-1 (SIGKILLed at ${killedAt} acks, ${processedByVictimBeforeKill} processed before, ${heldAtKill} claims stranded) ` +
      `${victim.processed.size}, worker-2 ${survivor.processed.size} (from their logs; ` +
      `${processedCount - victim.processed.size - survivor.processed.size} committed by worker-1 but not logged before the kill), ` +
      `${reclaimed} events claimed more than once, ${victim.leaseLost + survivor.leaseLost} lease-lost outcomes dropped, ` +
      `${retries} requests sent again after their connection broke before an answer`;
    t.diagnostic(summary);

    const sample = (ids: readonly string[]) => `${ids.length}: ${ids.slice(0, 5).join(', ')}`;
    assert.equal(ackedSet.size, acknowledged.length, 'the gate returned the same requestId twice');
    assert.equal(acknowledged.length, EVENTS);
    assert.deepEqual(missing, [], `acknowledged events missing from events ${sample(missing)}\n${summary}`);
    assert.deepEqual(notProcessed, [], `acknowledged events not PROCESSED ${sample(notProcessed)}\n${summary}\n${tails()}`);
    assert.equal(events.length, acknowledged.length, `events holds unacknowledged rows ${sample(extra)}\n${summary}`);
    assert.deepEqual(noSummary, [], `acknowledged events without a chat summary ${sample(noSummary)}\n${summary}`);
    assert.deepEqual(strangerSummaries, [], `chat summaries of unacknowledged events ${sample(strangerSummaries)}\n${summary}`);
    assert.equal(summaries.length, acknowledged.length, summary);
    assert.equal(duplicates, 0, summary);
    assert.ok(killedAt > 0 && !running(victim.child), 'worker-1 was killed');
    phase('verify');
    t.diagnostic(`phases: ${phases.join(', ')}`);
  } finally {
    for (const agent of agents) agent.destroy();
    await Promise.all(procs.map(killHard));
    await tdb?.destroy();
  }
});
