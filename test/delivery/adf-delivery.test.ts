// Leads delivered to dealer CRMs as ADF, end to end on both databases: a partner saves leads
// through the gate; an adf-xml webhook receives each save as a signed application/xml document
// valid against the ADF 1.0 DTD; an email destination mails one message per save, in save order,
// to a real SMTP server in this process (a 4xx retried, a 5xx a dead letter); a customer with no
// email or phone makes a dead letter at once (ADF_NO_CONTACT), which the preview also says.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/core/config.js';
import { Deliverer } from '../../src/delivery/deliverer.js';
import { destinationSpec as checkDestination } from '../../src/delivery/destination.rules.js';
import { parseAllowedNetworks } from '../../src/delivery/ssrf.js';
import { dtdProblems } from '../helpers/adf.js';
import { addDestination } from '../helpers/destinations.js';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { mailBody as bodyOf, startSmtpServer } from '../helpers/smtp.js';
import { basic, describeEachDialect, waitFor } from '../helpers/suite.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
const LEAD_TYPES = ['lead.created', 'lead.updated'] as const;

const fixture = {
  ...baseFixture,
  customers: [
    ...baseFixture.customers.map((c) => (c.uuid === 'c-1' ? { ...c, email: 'jane.doe@example.com', phone: '+1 206 555 0100' } : c)),
    // c-3 (Ann, no email, no phone) stays as it is: no way to reach her.
  ],
};

const idOf = (xml: string) => /<id sequence="1" source="[^"]*">([^<]*)<\/id>/.exec(xml)?.[1];
const statusOf = (xml: string) => /<prospect status="([a-z]+)">/.exec(xml)?.[1];

describeEachDialect('leads delivered as ADF', { fixture, env: { ADMIN_TOKEN: TOKEN } }, (ctx) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A sender over the suite's database: 50 ms polls, loopback allowed, then `env`. */
  function startDeliverer(env: Record<string, string> = {}) {
    const config = loadConfig({ DELIVERY_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8', DELIVERY_POLL_MS: '50', ...env }).delivery;
    const deliverer = new Deliverer({ db: ctx().tdb.db, config, log: pino({ level: 'silent' }), userAgent: 'dealer-gateway/test' });
    deliverer.start();
    cleanups.push(() => deliverer.stop());
    return deliverer;
  }

  async function destination(name: string, url: string, overrides: Parameters<typeof addDestination>[3]) {
    const spec = await addDestination(ctx().tdb.db.kysely, name, url, {
      eventTypes: [...LEAD_TYPES],
      retrySchedule: [0, 0, 0, 0, 0],
      ...overrides,
    });
    cleanups.push(() => ctx().tdb.db.kysely.deleteFrom('destinations').where('name', '=', name).execute());
    return spec;
  }

  async function save(overrides: Record<string, unknown>): Promise<string> {
    const res = await ctx().app.inject({
      method: 'POST',
      url: '/leads/v2/dealer/d-1',
      headers: { authorization: basic('writer', PASSWORD) },
      payload: leadBody(overrides),
    });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { prospectUuid: string }).prospectUuid;
  }

  const messages = (name: string) =>
    ctx().tdb.db.kysely.selectFrom('outbox_messages').selectAll().where('destination', '=', name).orderBy('seq').execute();

  test('an adf-xml webhook gets each save as a signed application/xml ADF document; an update is a resend', async () => {
    const received: { headers: IncomingMessage['headers']; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const spec = await destination('crm-http', `http://127.0.0.1:${(server.address() as AddressInfo).port}/adf`, { format: 'adf-xml' });
    startDeliverer();
    await save({ leadId: 'ADF-HTTP-1' });
    await save({ leadId: 'ADF-HTTP-1', webId: '2-99990000' });
    await waitFor('both saves received', async () => received.length === 2);
    const signer = new Webhook(spec.secret);
    for (const r of received) {
      assert.equal(r.headers['content-type'], 'application/xml');
      // standardwebhooks' verify() parses JSON; its sign() gives the signature to compare with.
      const id = String(r.headers['webhook-id']);
      const timestamp = new Date(Number(r.headers['webhook-timestamp']) * 1000);
      assert.equal(String(r.headers['webhook-signature']), signer.sign(id, timestamp, r.body));
      assert.equal(dtdProblems(r.body), '');
      assert.equal(idOf(r.body), 'ADF-HTTP-1');
      assert.match(r.body, /<email>jane\.doe@example\.com<\/email>/);
      assert.match(r.body, /<vin>1HGCM82633A004352<\/vin>/);
      assert.match(r.body, /<name part="full" type="business">writer<\/name>/, 'the partner that saved it is the provider');
    }
    assert.deepEqual(
      received.map((r) => statusOf(r.body)),
      ['new', 'resend'],
    );
    assert.match(received[1]?.body ?? '', /Web ID: 2-99990000/);
    // The operator's view of a message shows the document as the text sent.
    const [first] = await messages('crm-http');
    const detail = await ctx().app.inject({
      method: 'GET',
      url: `/admin/v1/messages/${first?.id}`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(detail.statusCode, 200, detail.body);
    const shown = detail.json() as { contentType: string; payload: string };
    assert.equal(shown.contentType, 'application/xml');
    assert.equal(shown.payload, received[0]?.body);
  });

  test('an email destination mails one ADF document per save, in save order; a 4xx is retried', async () => {
    // The first recipient command is refused for now (451): that message waits, and the ones
    // after it wait behind it (per-dealer order), then all go.
    const smtp = await startSmtpServer({ refuseRcpt: (n) => (n === 1 ? { code: 451, text: '4.3.0 try again later' } : undefined) });
    cleanups.push(smtp.close);
    await destination('crm-mail', null as unknown as string, {
      kind: 'email',
      url: null,
      format: 'adf-xml',
      to: ['leads@crm.example'],
      ordering: 'per-dealer',
    });
    startDeliverer({ SMTP_URL: smtp.url, SMTP_ALLOW_INSECURE: 'true', SMTP_FROM: 'gateway@dealer.example' });
    const ids = ['MAIL-1', 'MAIL-2', 'MAIL-3', 'MAIL-4', 'MAIL-5'];
    for (const leadId of ids) await save({ leadId });
    await waitFor('five mails, recorded', async () => (await messages('crm-mail')).filter((m) => m.status === 'DELIVERED').length === 5);
    assert.equal(smtp.mails.length, 5);
    assert.deepEqual(
      smtp.mails.map((m) => idOf(bodyOf(m.raw))),
      ids,
    );
    for (const mail of smtp.mails) {
      assert.deepEqual(mail.to, ['leads@crm.example']);
      assert.match(mail.raw, /^content-type: text\/plain/im);
      assert.doesNotMatch(mail.raw, /multipart/i, 'nothing but the document in the body');
      assert.equal(dtdProblems(bodyOf(mail.raw)), '');
    }
    const sent = await messages('crm-mail');
    assert.deepEqual(
      sent.map((m) => m.status),
      ['DELIVERED', 'DELIVERED', 'DELIVERED', 'DELIVERED', 'DELIVERED'],
    );
    assert.equal(sent[0]?.attempts, 2, 'the first was refused once (451), then taken');
    assert.ok(sent.slice(1).every((m) => m.attempts === 1));
    // Each mail's body is exactly the message's document.
    assert.deepEqual(
      smtp.mails.map((m) => bodyOf(m.raw).trimEnd()),
      sent.map((m) => m.payload.trimEnd()),
    );
  });

  test('a 5xx on the recipient is a dead letter at once, with the server reply kept', async () => {
    const smtp = await startSmtpServer({ refuseRcpt: () => ({ code: 550, text: '5.1.1 no such mailbox' }) });
    cleanups.push(smtp.close);
    await destination('crm-bounce', null as unknown as string, { kind: 'email', url: null, format: 'adf-xml', to: ['nobody@crm.example'] });
    startDeliverer({ SMTP_URL: smtp.url, SMTP_ALLOW_INSECURE: 'true' });
    await save({ leadId: 'BOUNCE-1' });
    await waitFor('a dead letter', async () => (await messages('crm-bounce'))[0]?.status === 'FAILED');
    const [message] = await messages('crm-bounce');
    assert.equal(message?.attempts, 1, 'no retry');
    assert.match(message?.last_error ?? '', /no such mailbox/);
    assert.equal(smtp.mails.length, 0);
  });

  test('a customer with neither email nor phone: a dead letter from the start (ADF_NO_CONTACT); the preview answers 422', async () => {
    await destination('crm-nocontact', 'https://crm.example/adf', { format: 'adf-xml' });
    const prospect = await save({ leadId: 'NOCONTACT-1', customer: { uuid: 'c-3' }, vehicle: { uuid: 'v-3' } });
    const [message] = await messages('crm-nocontact');
    assert.equal(message?.status, 'FAILED');
    assert.equal(message?.attempts, 0, 'nothing was tried');
    assert.match(message?.last_error ?? '', /^ADF_NO_CONTACT: .*c-3/);
    const detail = await ctx().app.inject({
      method: 'GET',
      url: `/admin/v1/messages/${message?.id}`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(detail.statusCode, 200, detail.body);
    assert.deepEqual((({ contentType, payload, status }) => ({ contentType, payload, status }))(detail.json() as Record<string, unknown>), {
      contentType: 'application/xml',
      payload: '',
      status: 'FAILED',
    });
    const preview = await ctx().app.inject({
      method: 'GET',
      url: `/admin/v1/dealers/d-1/leads/${prospect}/adf`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(preview.statusCode, 422);
    assert.equal((preview.json() as { error: { code: string } }).error.code, 'ADF_NO_CONTACT');
  });

  test('the preview gives the document a CRM would receive', async () => {
    const prospect = await save({ leadId: 'PREVIEW-1' });
    const preview = await ctx().app.inject({
      method: 'GET',
      url: `/admin/v1/dealers/d-1/leads/${prospect}/adf`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(preview.statusCode, 200, preview.body);
    assert.match(String(preview.headers['content-type']), /^application\/xml/);
    assert.equal(dtdProblems(preview.body), '');
    assert.equal(idOf(preview.body), 'PREVIEW-1');
  });
});

describe('destination rules for ADF and email', () => {
  const allowed = parseAllowedNetworks('');
  const problems = (input: Record<string, unknown>) => {
    const checked = checkDestination({ name: 'x', eventTypes: [...LEAD_TYPES], ...input } as never, allowed);
    return checked.ok ? [] : checked.problems;
  };

  test('adf-xml carries leads only', () => {
    assert.deepEqual(problems({ url: 'https://crm.example/in', format: 'adf-xml' }), []);
    assert.match(
      problems({ url: 'https://crm.example/in', format: 'adf-xml', eventTypes: ['lead.created', 'chat_summary.processed'] }).join(),
      /eventTypes: adf-xml carries leads only .*chat_summary\.processed/,
    );
  });

  test('email: recipients required, no url, ADF only; recipients only for email; a pull feed is JSON', () => {
    assert.deepEqual(problems({ kind: 'email', to: ['leads@crm.example'] }), []);
    assert.match(problems({ kind: 'email' }).join(), /to: required/);
    assert.match(problems({ kind: 'email', to: ['a@b.example'], url: 'https://x.example' }).join(), /url: an email destination has no url/);
    assert.match(problems({ kind: 'email', to: ['a@b.example'], format: 'json' }).join(), /format: an email destination sends ADF/);
    assert.match(problems({ url: 'https://x.example', to: ['a@b.example'] }).join(), /to: only an email destination/);
    assert.match(problems({ kind: 'pull', format: 'adf-xml' }).join(), /format: a pull feed carries the JSON envelope/);
  });
});
