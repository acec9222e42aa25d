// Destinations through the admin API, end to end on both databases: definitions and their checks
// (SSRF, secrets, names), outcomes of the gate and lead saves reaching a real receiver signed
// (verified with the standardwebhooks package), test sends, secret rotation with its overlap,
// and the messages API: attempt logs, retries of dead letters, recovery since a time.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { acceptEvent, chatBody, drain, eventsFixture, makeWorker, PASSWORD } from '../helpers/events.js';
import { leadBody } from '../helpers/fixtures.js';
import { basic, describeEachDialect, type SuiteContext, waitFor } from '../helpers/suite.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
const ALL_TYPES = ['chat_summary.processed', 'event.rejected', 'lead.created', 'lead.updated'];

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

function admin(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url: `/admin/v1${url}`,
    headers: { authorization: `Bearer ${TOKEN}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

const verified = (secret: string, r: Received) =>
  new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  }) as { type: string; data: Record<string, unknown> };

describeEachDialect(
  'admin API: destinations and delivery',
  {
    fixture: eventsFixture,
    env: { ADMIN_TOKEN: TOKEN, DELIVERY_ENABLED: 'true', DELIVERY_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8', DELIVERY_POLL_MS: '50' },
  },
  (ctx) => {
    const received: Received[] = [];
    let status = 204;
    let server: Server;
    let url = '';
    before(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(status).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    });
    after(() => server.close());

    const processAll = (c: SuiteContext) => drain(makeWorker(c.tdb.db, c.app.directory, c.tdb.config.worker), Date.now());
    const ofType = (type: string) => received.filter((r) => JSON.parse(r.body).type === type);

    test('a destination is created with its secret shown once, listed without it, and checked', async () => {
      const { app, tdb } = ctx();
      const created = await admin(app, 'POST', '/destinations', { name: 'crm', url, eventTypes: ['lead.created'] });
      assert.equal(created.statusCode, 201, created.body);
      const body = created.json();
      assert.match(body.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
      assert.equal(body.health.state, 'healthy');
      assert.equal(body.dealers, '*');
      assert.equal(body.ordering, 'none');
      const listed = (await admin(app, 'GET', '/destinations')).json();
      assert.deepEqual(
        listed.items.map((d: { name: string }) => d.name),
        ['crm'],
      );
      assert.ok(!JSON.stringify(listed).includes(body.secret), 'the secret is not listed');

      const again = await admin(app, 'POST', '/destinations', { name: 'crm', url, eventTypes: ['lead.created'] });
      assert.equal(again.statusCode, 409);
      for (const [bad, field] of [
        [{ name: 'x1', url: 'http://10.1.2.3/hook', eventTypes: ['lead.created'] }, 'url: 10.1.2.3 is a private address'],
        [{ name: 'x2', url: 'http://169.254.169.254/latest', eventTypes: ['lead.created'] }, 'url: 169.254.169.254 is a link-local'],
        [{ name: 'x3', url: 'ftp://example.com/', eventTypes: ['lead.created'] }, 'url:'],
        [{ name: 'x4', url, eventTypes: ['lead.created'], secret: 'not-a-secret' }, 'secret:'],
        [{ name: 'x5', url, eventTypes: ['lead.exploded'] }, 'eventTypes'],
        [{ name: 'x6', url, eventTypes: ['lead.created'], colour: 'red' }, 'colour'],
        [{ name: 'Bad Name', url, eventTypes: ['lead.created'] }, 'name'],
      ] as const) {
        const res = await admin(app, 'POST', '/destinations', bad);
        assert.equal(res.statusCode, 400, `${JSON.stringify(bad)}: ${res.body}`);
        assert.equal(res.json().error.code, 'VALIDATION_FAILED');
        assert.ok(res.body.includes(field), `${res.body} names ${field}`);
      }
      assert.equal((await admin(app, 'GET', '/destinations/nope')).statusCode, 404);

      const replaced = await admin(app, 'PUT', '/destinations/crm', { url: `${url}?v=2`, eventTypes: ALL_TYPES, ordering: 'per-dealer' });
      assert.equal(replaced.statusCode, 200, replaced.body);
      assert.deepEqual(replaced.json().eventTypes, ALL_TYPES);
      const stored = await tdb.db.kysely.selectFrom('destinations').select('secret').where('name', '=', 'crm').executeTakeFirstOrThrow();
      assert.equal(stored.secret, body.secret, 'a replace keeps the secret');

      const audit = await tdb.db.kysely.selectFrom('audit_log').selectAll().where('entity', '=', 'destination').orderBy('id').execute();
      assert.deepEqual(
        audit.map((a) => a.action),
        ['create', 'update'],
      );
      assert.ok(!JSON.stringify(audit).includes(body.secret), 'the audit log never holds the secret');

      assert.equal((await admin(app, 'DELETE', '/destinations/crm')).statusCode, 204);
      assert.equal((await admin(app, 'GET', '/destinations/crm')).statusCode, 404);
    });

    test('processed and rejected events and lead saves reach the receiver, signed, once each', async () => {
      const { app } = ctx();
      received.length = 0;
      const created = (await admin(app, 'POST', '/destinations', { name: 'everything', url, eventTypes: ALL_TYPES })).json();
      const processed = await acceptEvent(app, chatBody());
      const rejected = await acceptEvent(app, chatBody({ dealer_uuid: 'EXT-404' }));
      await processAll(ctx());
      const lead = (partner: string) =>
        app.inject({
          method: 'POST',
          url: '/leads/v2/dealer/d-1',
          headers: { authorization: basic(partner, PASSWORD) },
          payload: leadBody({ leadId: 'dest-lead-1' }),
        });
      assert.equal((await lead('no-scope')).statusCode, 200);
      assert.equal((await lead('no-scope')).statusCode, 200);
      await waitFor('four messages', async () => received.length >= 4);

      const summary = ofType('chat_summary.processed').map((r) => verified(created.secret, r));
      assert.equal(summary.length, 1);
      assert.equal(summary[0]?.data.requestId, processed);
      assert.equal(summary[0]?.data.partner, 'multi-partner');
      assert.equal(summary[0]?.data.dealerUuid, 'd-1');
      const rejection = ofType('event.rejected').map((r) => verified(created.secret, r));
      assert.equal(rejection[0]?.data.requestId, rejected);
      assert.equal(rejection[0]?.data.dealerUuid, null, 'rejected before its dealer was known');
      const errors = rejection[0]?.data.errors as { errorCode: string }[] | undefined;
      assert.deepEqual(
        errors?.map((e) => e.errorCode),
        ['DEALER_NOT_MAPPED'],
      );
      const leads = [...ofType('lead.created'), ...ofType('lead.updated')].map((r) => verified(created.secret, r));
      assert.deepEqual(
        leads.map((l) => [l.type, l.data.saveCount, l.data.leadId]),
        [
          ['lead.created', 1, 'dest-lead-1'],
          ['lead.updated', 2, 'dest-lead-1'],
        ],
      );
      assert.equal(new Set(received.map((r) => r.headers['webhook-id'])).size, received.length, 'each message once');

      // The receiver has them; their attempts are recorded on the sender's next turn.
      let listed = { items: [] as { id: string; status: string; type: string }[] };
      await waitFor('four messages recorded DELIVERED', async () => {
        listed = (await admin(app, 'GET', '/messages?destination=everything&limit=10')).json();
        return listed.items.length === 4 && listed.items.every((m) => m.status === 'DELIVERED');
      });
      const first = listed.items[0] as { id: string; type: string };
      const detail = (await admin(app, 'GET', `/messages/${first.id}`)).json();
      assert.equal(detail.attemptLog.length, 1);
      assert.equal(detail.attemptLog[0].statusCode, 204);
      assert.equal(detail.payload.type, first.type);
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      for (const line of [
        'dealer_gateway_delivery_messages_created_total{destination="everything",type="lead.created"} 1',
        'dealer_gateway_delivery_attempts_total{destination="everything",type="chat_summary.processed",outcome="delivered"} 1',
        'dealer_gateway_delivery_attempts_total{destination="everything",type="lead.updated",outcome="delivered"} 1',
        'dealer_gateway_delivery_backlog_messages{destination="everything"} 0',
        'dealer_gateway_delivery_dead_letters{destination="everything"} 0',
        'dealer_gateway_delivery_destination_state{destination="everything",state="healthy"} 1',
        'dealer_gateway_delivery_lag_seconds_count 4',
      ]) {
        assert.ok(metrics.includes(line), `/metrics has ${line}`);
      }
      await admin(app, 'DELETE', '/destinations/everything');
    });

    test('a test send, a secret rotation that signs with both secrets, and dead letters sent again', async () => {
      const { app } = ctx();
      received.length = 0;
      const created = (
        await admin(app, 'POST', '/destinations', {
          name: 'rotating',
          url,
          eventTypes: ['lead.created', 'lead.updated'],
          retrySchedule: [0],
        })
      ).json();
      const sent = await admin(app, 'POST', '/destinations/rotating/test', { type: 'lead.created' });
      assert.equal(sent.statusCode, 200, sent.body);
      assert.deepEqual([sent.json().delivered, sent.json().statusCode], [true, 204]);
      assert.equal(verified(created.secret, received[0] as Received).data.test, true);

      const rotated = await admin(app, 'POST', '/destinations/rotating/rotate-secret', {});
      assert.equal(rotated.statusCode, 200, rotated.body);
      const fresh = rotated.json().secret as string;
      assert.notEqual(fresh, created.secret);
      assert.ok(rotated.json().previousSecretUntil);
      received.length = 0;
      await admin(app, 'POST', '/destinations/rotating/test', {});
      const signed = received[0] as Received;
      assert.equal(String(signed.headers['webhook-signature']).split(' ').length, 2, 'two signatures during the overlap');
      verified(fresh, signed);
      verified(created.secret, signed);

      // The receiver fails: with a one-attempt schedule the save's message is a dead letter.
      status = 500;
      received.length = 0;
      await app.inject({
        method: 'POST',
        url: '/leads/v2/dealer/d-1',
        headers: { authorization: basic('no-scope', PASSWORD) },
        payload: leadBody({ leadId: 'dest-lead-2' }),
      });
      let failed: { id: string } | undefined;
      await waitFor('a dead letter', async () => {
        failed = (await admin(app, 'GET', '/messages?destination=rotating&status=FAILED')).json().items[0];
        return failed !== undefined;
      });
      const id = (failed as { id: string }).id;
      assert.equal((await admin(app, 'GET', `/messages/${id}`)).json().lastError, 'HTTP 500');
      const health = (await admin(app, 'GET', '/destinations/rotating')).json().health;
      assert.deepEqual([health.state, health.failed, health.failureStreak], ['failing', 1, 1]);
      status = 204;
      const retried = await admin(app, 'POST', `/messages/${id}/retry`);
      assert.equal(retried.statusCode, 200, retried.body);
      await waitFor('delivered after the retry', async () => (await admin(app, 'GET', `/messages/${id}`)).json().status === 'DELIVERED');
      assert.equal((await admin(app, 'POST', `/messages/${id}/retry`)).statusCode, 409, 'only dead letters are sent again');

      status = 500;
      await app.inject({
        method: 'POST',
        url: '/leads/v2/dealer/d-1',
        headers: { authorization: basic('no-scope', PASSWORD) },
        payload: leadBody({ leadId: 'dest-lead-3' }),
      });
      await waitFor(
        'another dead letter',
        async () => (await admin(app, 'GET', '/messages?destination=rotating&status=FAILED')).json().items.length === 1,
      );
      status = 204;
      const recovered = await admin(app, 'POST', '/destinations/rotating/recover', { since: new Date(Date.now() - 60_000).toISOString() });
      assert.deepEqual(recovered.json(), { retried: 1 });
      await waitFor('all delivered', async () => {
        const items = (await admin(app, 'GET', '/messages?destination=rotating')).json().items as { status: string }[];
        return items.every((m) => m.status === 'DELIVERED');
      });
      assert.equal((await admin(app, 'GET', '/destinations/rotating')).json().health.state, 'healthy');
    });
  },
);
