// GET /metrics and the stuck-worker readiness rule, on both dialects: the gate's, lead saves' and
// authentication counters with their exact labels, the pipeline's counters (a worker on this
// thread, the app's inline worker, and the storage thread's stats messages), the backlog gauges,
// the HTTP and group-commit histograms, and /readyz failing once the heartbeat is older than its
// bound (the clock is moved, nothing sleeps).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../../src/app.js';
import { Worker } from '../../src/pipeline/worker.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { acceptEvent, chatBody, drain, EVENT_TYPE, eventsFixture, PASSWORD, sendEvent, silentLog } from '../helpers/events.js';
import { leadBody } from '../helpers/fixtures.js';
import { basic, describeEachDialect, waitFor } from '../helpers/suite.js';

/** The events fixture plus a lead writer for d-1. */
const fixture = {
  ...eventsFixture,
  subscribers: [
    ...eventsFixture.subscribers,
    { username: 'writer', password: PASSWORD, grants: [{ scope: 'lead.write', dealers: ['d-1'] }] },
  ],
};

type Labels = Record<string, string>;

/** Every sample of a Prometheus text exposition: name, labels, value. */
function parseSamples(text: string): { name: string; labels: Labels; value: number }[] {
  const samples: { name: string; labels: Labels; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `unparseable exposition line: ${line}`);
    const labels: Labels = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

interface Scrape {
  readonly text: string;
  /** The value of the sample with exactly these labels, or undefined when there is none. */
  value(name: string, labels?: Labels): number | undefined;
}

async function scrape(app: FastifyInstance): Promise<Scrape> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  const samples = parseSamples(res.body);
  return {
    text: res.body,
    value(name, labels = {}) {
      const wanted = Object.entries(labels).sort();
      const found = samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(wanted));
      return found?.value;
    },
  };
}

async function receivedCount(app: FastifyInstance): Promise<number> {
  const row = await app.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('status', '=', 'RECEIVED')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const gate = (subscriber: string, extra: Labels = {}) => ({ subscriber, event_type: EVENT_TYPE, ...extra });
const pipeline = (subscriber: string, outcome: string) => ({ subscriber, event_type: EVENT_TYPE, outcome });
const saveLead = (app: FastifyInstance, dealer: string, body: unknown, username = 'writer') =>
  app.inject({
    method: 'POST',
    url: `/leads/v2/dealer/${dealer}`,
    headers: { authorization: basic(username, PASSWORD) },
    payload: body as object,
  });

describeEachDialect('metrics', { fixture }, (ctx) => {
  test('/metrics answers the text format, with HELP for our metrics and the default process metrics', async () => {
    const { text, value } = await scrape(ctx().app);
    assert.match(text, /^# HELP /);
    for (const name of [
      'gate_events_received_total',
      'gate_events_acknowledged_total',
      'gate_events_rejected_total',
      'pipeline_events_total',
      'pipeline_backlog_events',
      'pipeline_backlog_oldest_age_seconds',
      'group_commit_batch_size',
      'http_request_duration_seconds',
      'lead_saves_total',
      'auth_failures_total',
    ]) {
      assert.match(text, new RegExp(`^# HELP dealer_gateway_${name} \\S`, 'm'), `HELP of ${name}`);
    }
    assert.ok((value('process_cpu_user_seconds_total') ?? -1) >= 0, 'default process metrics are collected');
    // WORKER_ENABLED=false here: no in-process worker, no heartbeat gauge.
    assert.doesNotMatch(text, /dealer_gateway_worker_heartbeat_age_seconds/);
  });

  test('the gate counts received, acknowledged and rejected events by subscriber, event type and code', async () => {
    const { app } = ctx();
    await acceptEvent(app, chatBody({ chat_code: 'G-1' }));
    await acceptEvent(app, chatBody({ chat_code: 'G-2' }));
    assert.equal((await sendEvent(app, '{"not json', {})).statusCode, 400);
    assert.equal((await sendEvent(app, chatBody(), { noAuth: true })).statusCode, 401);
    assert.equal((await sendEvent(app, chatBody(), { username: 'intruder-7f3a', password: 'guess' })).statusCode, 401);
    assert.equal((await sendEvent(app, chatBody(), { username: 'inactive-partner' })).statusCode, 403);

    const m = await scrape(app);
    assert.equal(m.value('dealer_gateway_gate_events_received_total', gate('multi-partner')), 3);
    assert.equal(m.value('dealer_gateway_gate_events_acknowledged_total', gate('multi-partner')), 2);
    assert.equal(m.value('dealer_gateway_gate_events_rejected_total', gate('multi-partner', { code: 'INVALID_JSON' })), 1);
    // Refused before anyone was authenticated: subscriber "-", whatever username was tried.
    assert.equal(m.value('dealer_gateway_gate_events_received_total', gate('-')), 2);
    assert.equal(m.value('dealer_gateway_gate_events_rejected_total', gate('-', { code: 'NULL_CREDENTIALS' })), 1);
    assert.equal(m.value('dealer_gateway_gate_events_rejected_total', gate('-', { code: 'WRONG_CREDENTIAL' })), 1);
    assert.equal(m.value('dealer_gateway_gate_events_acknowledged_total', gate('-')), undefined);
    // Authenticated, but not an event source.
    assert.equal(m.value('dealer_gateway_gate_events_received_total', gate('inactive-partner')), 1);
    assert.equal(m.value('dealer_gateway_gate_events_rejected_total', gate('inactive-partner', { code: 'INVALID_EVENT_SOURCE' })), 1);

    assert.equal(m.value('dealer_gateway_auth_failures_total', { code: 'NULL_CREDENTIALS' }), 1);
    assert.equal(m.value('dealer_gateway_auth_failures_total', { code: 'WRONG_CREDENTIAL' }), 1);
    assert.equal(m.value('dealer_gateway_auth_failures_total', { code: 'MALFORMED_CREDENTIALS' }), 0);
    assert.equal(m.value('dealer_gateway_auth_failures_total', { code: 'TOO_MANY_REQUESTS' }), 0);
    assert.ok(!m.text.includes('intruder-7f3a'), 'a username that failed authentication is never a label');
  });

  test('a malformed Authorization header counts as MALFORMED_CREDENTIALS', async () => {
    const res = await ctx().app.inject({
      method: 'POST',
      url: '/leads/v2/dealer/d-1',
      headers: { authorization: 'Basic !!!' },
      payload: {},
    });
    assert.equal(res.statusCode, 401);
    const m = await scrape(ctx().app);
    assert.equal(m.value('dealer_gateway_auth_failures_total', { code: 'MALFORMED_CREDENTIALS' }), 1);
    assert.equal(m.value('dealer_gateway_lead_saves_total', { subscriber: '-', outcome: 'rejected', code: 'MALFORMED_CREDENTIALS' }), 1);
  });

  test('lead saves are counted as created, updated or rejected with their code', async () => {
    const { app } = ctx();
    assert.equal((await saveLead(app, 'd-1', leadBody({ leadId: 'M-1' }))).json().isNewCreated, true);
    assert.equal((await saveLead(app, 'd-1', leadBody({ leadId: 'M-1' }))).json().isNewCreated, false);
    assert.equal((await saveLead(app, 'd-1', leadBody({ leadId: 'M-1', webId: '2-1' }))).json().isNewCreated, false);
    assert.equal((await saveLead(app, 'd-1', leadBody({ vehicle: undefined }))).statusCode, 400);
    assert.equal((await saveLead(app, 'd-1', leadBody({ customer: { uuid: 'c-404' } }))).statusCode, 422);
    assert.equal((await saveLead(app, 'd-2', leadBody())).statusCode, 403);

    const m = await scrape(app);
    const saves = (outcome: string, code?: string) =>
      m.value('dealer_gateway_lead_saves_total', { subscriber: 'writer', outcome, ...(code ? { code } : {}) });
    assert.equal(saves('created'), 1);
    assert.equal(saves('updated'), 2);
    assert.equal(saves('rejected', 'VALIDATION_FAILED'), 1);
    assert.equal(saves('rejected', 'CUSTOMER_NOT_FOUND'), 1);
    assert.equal(saves('rejected', 'INVALID_SCOPE_DEALER'), 1);
  });

  test('the HTTP histogram is labelled by route pattern, never by the raw URL; no route is "unmatched"', async () => {
    const { app } = ctx();
    await app.inject({ method: 'GET', url: '/no/such/thing' });
    const m = await scrape(app);
    const count = (route: string, method: string, status: string) =>
      m.value('dealer_gateway_http_request_duration_seconds_count', { route, method, status_code: status });
    // Every earlier save in this suite by writer, in one series per status.
    assert.equal(count('/leads/v2/dealer/:dealerUuid', 'POST', '200'), 3);
    assert.equal(count('/leads/v2/dealer/:dealerUuid', 'POST', '403'), 1);
    assert.equal(count('unmatched', 'GET', '404'), 1);
    assert.ok((count('/metrics', 'GET', '200') ?? 0) >= 1);
    const routes = new Set(
      [...m.text.matchAll(/^dealer_gateway_http_request_duration_seconds_count\{.*route="([^"]*)"/gm)].map((match) => match[1]),
    );
    for (const route of routes) assert.ok(route === 'unmatched' || route?.startsWith('/'), `route label ${route}`);
    assert.ok(!routes.has('/leads/v2/dealer/d-1'), 'no raw URL as a route');
    assert.ok(!routes.has('/no/such/thing'), 'no raw URL as a route');
    assert.equal(
      m.value('dealer_gateway_http_request_duration_seconds_bucket', { le: '+Inf', route: 'unmatched', method: 'GET', status_code: '404' }),
      1,
    );
  });

  test('the group-commit histogram counts every write once, however the writes were batched', async () => {
    const { app } = ctx();
    const before = await scrape(app);
    const sum = (m: Scrape) => m.value('dealer_gateway_group_commit_batch_size_sum') ?? 0;
    const commits = (m: Scrape) => m.value('dealer_gateway_group_commit_batch_size_count') ?? 0;
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => sendEvent(app, chatBody({ chat_code: `BURST-${i}` }))));
    for (const res of replies) assert.equal(res.statusCode, 200, res.body);
    const m = await scrape(app);
    assert.equal(sum(m) - sum(before), 20);
    const batches = commits(m) - commits(before);
    assert.ok(batches >= 1 && batches <= 20, `${batches} commits`);
  });

  test('the backlog gauges read the RECEIVED events at scrape time', async () => {
    const { app } = ctx();
    const received = await receivedCount(app);
    assert.ok(received > 0);
    const m = await scrape(app);
    assert.equal(m.value('dealer_gateway_pipeline_backlog_events'), received);
    const age = m.value('dealer_gateway_pipeline_backlog_oldest_age_seconds') ?? -1;
    assert.ok(age >= 0 && age < 3600, `oldest age ${age} s`);
    // An event received an hour ago shows as the oldest.
    const oldest = await app.db.selectFrom('events').select('request_id').where('status', '=', 'RECEIVED').executeTakeFirstOrThrow();
    await app.db
      .updateTable('events')
      .set({ received_at: Date.now() - 3_600_000 })
      .where('request_id', '=', oldest.request_id)
      .execute();
    const aged = (await scrape(app)).value('dealer_gateway_pipeline_backlog_oldest_age_seconds') ?? -1;
    assert.ok(aged >= 3600 && aged < 3660, `oldest age ${aged} s`);
  });

  test('a worker reports processed, rejected, retried and failed events by subscriber and event type', async () => {
    const { app, tdb } = ctx();
    const worker = new Worker({
      db: tdb.db,
      directory: app.directory,
      log: silentLog,
      config: tdb.config.worker,
      workerId: 'metrics',
      onBatch: app.metrics.pipeline.countBatch,
    });
    await acceptEvent(app, chatBody({ dealer_uuid: 'P-100', chat_code: 'OK-1' }), { username: 'partner' });
    await acceptEvent(app, chatBody({ dealer_uuid: 'P-100', chat_code: 'OK-2' }), { username: 'partner' });
    await acceptEvent(app, chatBody({ dealer_uuid: 'P-404' }), { username: 'partner' });
    // A poison event: claimed more often than WORKER_MAX_ATTEMPTS allows → FAILED.
    const poison = await acceptEvent(app, chatBody({ dealer_uuid: 'P-100', chat_code: 'POISON' }), { username: 'partner' });
    await tdb.db.kysely.updateTable('events').set({ attempts: tdb.config.worker.maxAttempts }).where('request_id', '=', poison).execute();
    const report = await drain(worker);
    assert.equal(report.failed, 1);

    // A transient failure (the summaries table is gone while the outcome is stored) → retried.
    await acceptEvent(app, chatBody({ chat_code: 'RETRY' }), { username: 'switch' });
    const rename = (from: string, to: string) => sql`ALTER TABLE ${sql.table(from)} RENAME TO ${sql.table(to)}`.execute(tdb.db.kysely);
    await rename('chat_summaries', 'chat_summaries_offline');
    try {
      assert.equal((await worker.runOnce()).retried, 1);
    } finally {
      await rename('chat_summaries_offline', 'chat_summaries');
    }

    const m = await scrape(app);
    assert.equal(m.value('dealer_gateway_pipeline_events_total', pipeline('partner', 'processed')), 2);
    assert.equal(m.value('dealer_gateway_pipeline_events_total', pipeline('partner', 'rejected')), 1);
    assert.equal(m.value('dealer_gateway_pipeline_events_total', pipeline('partner', 'failed')), 1);
    assert.equal(m.value('dealer_gateway_pipeline_events_total', pipeline('partner', 'retried')), undefined);
    assert.equal(m.value('dealer_gateway_pipeline_events_total', pipeline('switch', 'retried')), 1);
    assert.equal(m.value('dealer_gateway_pipeline_events_total', pipeline('multi-partner', 'processed')), report.processed - 2);
    // Only the retrying event is left, waiting for its backoff.
    assert.equal(m.value('dealer_gateway_pipeline_backlog_events'), 1);
    assert.equal(await receivedCount(app), 1);
  });

  test('without an in-process worker, readiness ignores the heartbeat', async () => {
    const { app } = ctx();
    const { heartbeat } = app.metrics;
    assert.equal(heartbeat.enabled, false);
    heartbeat.now = () => Date.now() + 24 * 3_600_000;
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    } finally {
      heartbeat.now = Date.now;
    }
  });
});

describeEachDialect(
  'metrics: the in-process worker (inline) and readiness',
  { fixture, env: { WORKER_ENABLED: 'true', WORKER_LEASE_MS: '40000' } },
  (ctx) => {
    test('the app’s own worker feeds the pipeline counters', async () => {
      const { app } = ctx();
      await acceptEvent(app, chatBody({ dealer_uuid: 'P-100' }), { username: 'partner' });
      await waitFor(
        'the event counted as processed',
        async () => (await scrape(app)).value('dealer_gateway_pipeline_events_total', pipeline('partner', 'processed')) === 1,
      );
      assert.equal((await scrape(app)).value('dealer_gateway_pipeline_backlog_events'), 0);
    });

    test('/readyz fails with 503 once the worker’s heartbeat is older than max(60 s, 3 × lease, 3 × poll)', async () => {
      const { app } = ctx();
      const { heartbeat } = app.metrics;
      assert.equal(heartbeat.enabled, true);
      assert.equal(heartbeat.stuckAfterMs, 120_000, '3 × WORKER_LEASE_MS (40 s)');
      const age = (await scrape(app)).value('dealer_gateway_worker_heartbeat_age_seconds') ?? -1;
      assert.ok(age >= 0 && age < 120, `heartbeat age ${age} s`);
      assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      try {
        // Well within the bound (the idle worker beats every second): still ready.
        heartbeat.now = () => Date.now() + 90_000;
        assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
        heartbeat.now = () => Date.now() + 125_000;
        const res = await app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(res.statusCode, 503, res.body);
        assert.equal(res.json().error.code, 'SERVICE_UNAVAILABLE');
        assert.match(res.json().error.message, /pipeline worker/);
        assert.ok(((await scrape(app)).value('dealer_gateway_worker_heartbeat_age_seconds') ?? 0) > 120);
        // Liveness is not readiness: the process is up.
        assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      } finally {
        heartbeat.now = Date.now;
      }
      assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    });
  },
);

for (const dialect of testDialects()) {
  describe(`metrics: the storage thread ships its counts [${dialect}]`, () => {
    let tdb: TestDatabase;
    let app: FastifyInstance;
    before(async () => {
      tdb = await createTestDatabase(dialect, { WORKER_ENABLED: 'true' });
      await applyProvisioning(tdb.db.kysely, fixture);
      // No `db`: the app opens its own and writes through the storage thread, as the service does.
      app = await buildApp(tdb.config, { logger: false });
    });
    after(async () => {
      await app?.close();
      await tdb?.destroy();
    });

    test('pipeline outcomes, commit sizes and the heartbeat cross from the thread', async () => {
      const started = Date.now();
      await acceptEvent(app, chatBody({ dealer_uuid: 'P-100' }), { username: 'partner' });
      await acceptEvent(app, chatBody({ dealer_uuid: 'P-404' }), { username: 'partner' });
      assert.equal((await saveLead(app, 'd-1', leadBody())).statusCode, 200);
      await waitFor('the thread’s counts', async () => {
        const m = await scrape(app);
        return (
          m.value('dealer_gateway_pipeline_events_total', pipeline('partner', 'processed')) === 1 &&
          m.value('dealer_gateway_pipeline_events_total', pipeline('partner', 'rejected')) === 1 &&
          m.value('dealer_gateway_group_commit_batch_size_sum') === 3
        );
      });
      const m = await scrape(app);
      assert.equal(m.value('dealer_gateway_gate_events_acknowledged_total', gate('partner')), 2);
      assert.equal(m.value('dealer_gateway_lead_saves_total', { subscriber: 'writer', outcome: 'created' }), 1);
      assert.equal(m.value('dealer_gateway_pipeline_backlog_events'), 0);
      // The worker's loop turns in the thread; its heartbeat arrives with the stats.
      await waitFor('a heartbeat from the thread', async () => app.metrics.heartbeat.lastBeatAt > started);
      assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    });
  });
}
