// The console's Deliveries pages in a real browser (Debian's chromium driven by playwright-core)
// against the real app listening on a port, with its sender running, on both databases. The
// operator creates destinations through the form (a refusal shown inline, the secret shown once
// and verified against a real signature), runs a test send, reads the messages a lead save and a
// processed event made and a message's attempt log, retries a dead letter from its page and
// every dead letter of a filter, recovers a destination since a time, disables, enables, rotates
// and deletes. An email destination is made through the same form (its recipients instead of a
// URL, its format forced to adf-xml, lead types only), tested against an SMTP server in this
// process (an SMTP reply shown), and edited; the dealer view shows a lead's ADF preview beside
// its JSON, or ADF_NO_CONTACT for a customer with neither email nor phone. Markup in a
// destination's URL and in a receiver's answer stays text; no CSP violation and no page error all
// along.
//
// Screenshots (deliveries.png, delivery-message.png, lead-adf.png) go to a temporary folder, or to
// docs/screenshots/ with UPDATE_SCREENSHOTS=1 (taken on the first dialect only). Without a
// chromium to launch (CHROMIUM_PATH, default /usr/bin/chromium) the test is skipped, saying why.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { LightMyRequestResponse } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { acceptEvent, chatBody, drain, eventsFixture, makeWorker, PASSWORD } from '../helpers/events.js';
import { leadBody } from '../helpers/fixtures.js';
import { freePort } from '../helpers/ports.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { basic, describeEachDialect, type SuiteContext, waitFor } from '../helpers/suite.js';

// The few browser globals the functions run in the page use (the project compiles without the DOM lib).
interface PageElement {
  readonly dataset: Record<string, string | undefined>;
  readonly classList: { contains(name: string): boolean };
  getAttribute(name: string): string | null;
}
declare const document: {
  readonly activeElement: PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement> & { readonly length: number };
  addEventListener(type: 'securitypolicyviolation', listener: (e: { violatedDirective: string; blockedURI: string }) => void): void;
};
declare const window: { __csp: string[]; __xss?: unknown; scrollBy(x: number, y: number): void };

const TOKEN = 'test-admin-token-0123456789abcdef';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const SCRATCH = mkdtempSync(join(tmpdir(), 'dg-console-deliveries-'));
const SHOTS = UPDATE_SCREENSHOTS ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : SCRATCH;
/**
 * The service's refusals the test asks for on purpose (400, 409; 422: a lead with no ADF document):
 * the browser logs each failed request.
 */
const EXPECTED_REFUSAL = /Failed to load resource: the server responded with a status of (400|409|422)/;
/** What a failing receiver answers: markup, which the attempt log must show as text. */
const HOSTILE_BODY = '<img src=x onerror="window.__xss = 5"><b>receiver down</b>';
const HOSTILE_HEADER = '<script>window.__xss = 6</script>';

let browser: Browser | undefined;
let skipReason: string | undefined;
/** Screenshots for docs/screenshots/ once, from the first dialect's run. */
let shotsTaken = false;

/** Jane (c-1) has an email, so her leads have an ADF document; Ann (c-3) has neither email nor phone. */
const fixture = {
  ...eventsFixture,
  customers: eventsFixture.customers.map((c) => (c.uuid === 'c-1' ? { ...c, email: 'jane.doe@example.com' } : c)),
};
/** The suites' environment; SMTP_URL is added once the SMTP server below listens (before any suite starts). */
const env: Record<string, string> = {
  ADMIN_TOKEN: TOKEN,
  DELIVERY_ENABLED: 'true',
  DELIVERY_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
  DELIVERY_POLL_MS: '50',
  SMTP_ALLOW_INSECURE: 'true',
};

/** A mail server on 127.0.0.1 for the email destination (no TLS: SMTP_ALLOW_INSECURE). */
let smtp: TestSmtpServer | undefined;
const mails = () => smtp?.mails ?? [];

before(async () => {
  smtp = await startSmtpServer();
  env.SMTP_URL = smtp.url;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  } catch (err) {
    skipReason = `chromium cannot be launched from ${CHROMIUM} (install it: apt-get install chromium): ${(err as Error).message.split('\n')[0]}`;
  }
});

after(async () => {
  await browser?.close();
  await smtp?.close();
});

interface Received {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

describeEachDialect(
  'operator console: deliveries, in a real browser',
  {
    fixture,
    env,
  },
  (ctx) => {
    // The receiver: /ok always answers 204; /flaky answers `flaky` (500: markup in a body and a header).
    const received: Received[] = [];
    let flaky = 500;
    let server: Server;
    let receiver = '';
    let base = '';
    before(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const path = String(req.url);
          received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          if (path.startsWith('/flaky') && flaky !== 204) {
            res.writeHead(flaky, { 'content-type': 'text/html', 'x-receiver': HOSTILE_HEADER }).end(HOSTILE_BODY);
          } else res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      receiver = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const port = await freePort();
      await ctx().app.listen({ port, host: '127.0.0.1' });
      base = `http://127.0.0.1:${port}`;
    });
    after(() => {
      server?.closeAllConnections();
      server?.close();
    });

    const api = (method: 'GET' | 'POST', url: string): Promise<LightMyRequestResponse> =>
      ctx().app.inject({ method, url: `/admin/v1${url}`, headers: { authorization: `Bearer ${TOKEN}` } });
    const messages = async (filter: string) =>
      (await api('GET', `/messages?${filter}&limit=100`)).json().items as { id: string; status: string; sourceId: string }[];
    const processAll = (c: SuiteContext) => drain(makeWorker(c.tdb.db, c.app.directory, c.tdb.config.worker), Date.now());
    /** Saves a lead of Jane's (or what `overrides` say); answers its prospectUuid. */
    const saveLead = async (leadId: string, overrides: Record<string, unknown> = {}) => {
      const res = await ctx().app.inject({
        method: 'POST',
        url: '/leads/v2/dealer/d-1',
        headers: { authorization: basic('no-scope', PASSWORD) },
        payload: leadBody({ leadId, ...overrides }),
      });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as { prospectUuid: string }).prospectUuid;
    };

    test('an operator manages destinations and their messages from the Deliveries pages', async (t) => {
      if (browser === undefined) {
        t.skip(skipReason);
        return;
      }
      const shots = !UPDATE_SCREENSHOTS || !shotsTaken;
      shotsTaken = true;
      mkdirSync(SHOTS, { recursive: true });
      if (shots) t.diagnostic(`screenshots in ${SHOTS}`);
      const shot = async (page: Page, name: string, fullPage = true) => {
        // Finished animations (a new row's highlight) drawn as they end.
        if (shots) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage, animations: 'disabled' });
      };

      const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      const cspReports: string[] = [];
      const pageErrors: string[] = [];
      page.on('console', (msg) => {
        if (/Content Security Policy|Refused to (execute|load|apply|connect|frame)/i.test(msg.text())) cspReports.push(msg.text());
        else if (msg.type() === 'error' && !EXPECTED_REFUSAL.test(msg.text())) pageErrors.push(msg.text());
      });
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.addInitScript(() => {
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      const row = (name: string) => page.locator(`#destinations tbody[data-destination="${name}"]`);
      const action = (name: string, what: string) => row(name).locator(`button[data-action="${what}"]`);
      const messageRows = () => page.locator('#messages tbody tr');

      /** Fills the form and submits it; answers the secret shown. */
      const createThroughForm = async (name: string, url: string, types: string[], retrySchedule = '') => {
        await page.locator('#destination-name').fill(name);
        await page.locator('#destination-url').fill(url);
        for (const box of await page.locator('#destination-types input[type="checkbox"]').all()) {
          await box.setChecked(types.includes(String(await box.getAttribute('value'))));
        }
        await page.locator('#destination-retry').fill(retrySchedule);
        await page.locator('#create-destination').click();
        const box = page.locator('#destination-created', { hasText: `Destination ${name} created` });
        await box.waitFor();
        await row(name).waitFor();
        return String(await box.locator('code.secret').textContent());
      };

      try {
        // ---- the page, from the navigation ----
        await page.goto(`${base}/console`);
        await page.locator('#token').fill(TOKEN);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('.nav a[data-section="deliveries"]').click();
        await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
        await page.getByText('No destination yet').waitFor();
        assert.ok(await page.locator('.nav a[data-section="deliveries"]').evaluate((a) => (a as PageElement).classList.contains('active')));

        // ---- refusals, inline: the form's own check, then the service's message ----
        await page.locator('#destination-name').fill('crm');
        await page.locator('#destination-url').fill(`${receiver}/ok`);
        await page.locator('#create-destination').click();
        const formError = page.locator('#destination-form-feedback .notice.error');
        await formError.waitFor();
        assert.match(String(await formError.textContent()), /Choose at least one event type/);
        await page.locator('#destination-types input[value="lead.created"]').check();
        await page.locator('#destination-name').fill('Bad Name');
        await page.locator('#create-destination').click();
        await page.locator('#destination-form-feedback .notice.error', { hasText: 'Not created:' }).waitFor();
        assert.match(String(await formError.textContent()), /Not created: Field 'name' must match the pattern/);
        assert.equal(await page.locator('#destination-name.invalid').count(), 1, 'the field named is marked');
        await page.locator('#destination-name').fill('crm');
        await page.locator('#destination-url').fill('http://10.1.2.3/hooks');
        await page.locator('#create-destination').click();
        await page.locator('#destination-form-feedback .notice.error', { hasText: '10.1.2.3 is a private address' }).waitFor();
        assert.equal(await page.locator('#destination-url.invalid').count(), 1);

        // ---- created through the form: the secret shown once ----
        const crmSecret = await createThroughForm('crm', `${receiver}/ok`, ['chat_summary.processed', 'lead.created', 'lead.updated']);
        assert.match(crmSecret, /^whsec_[A-Za-z0-9+/]+=*$/);
        assert.match(String(await page.locator('#destination-created').textContent()), /Shown once/);
        await row('crm').locator('.badge.health.healthy').waitFor();
        assert.equal(await page.locator('#destination-name').inputValue(), '', 'the form is emptied');
        // A name taken: 409, inline.
        await page.locator('#destination-name').fill('crm');
        await page.locator('#destination-url').fill(`${receiver}/ok`);
        await page.locator('#destination-types input[value="lead.created"]').check();
        await page.locator('#create-destination').click();
        await page.locator('#destination-form-feedback .notice.error', { hasText: 'A destination named crm exists already' }).waitFor();

        // Markup in a URL is text.
        const hostileUrl = `${receiver}/ok?note=<img src=x onerror="window.__xss = 1">`;
        await createThroughForm('xss-probe', hostileUrl, ['event.rejected']);
        assert.equal(await row('xss-probe').locator('.dest-url').textContent(), hostileUrl);
        assert.equal(await page.locator('#view img').count(), 0);

        // A pull destination: no URL field; its feed token is shown once beside the secret.
        await page.locator('#destination-kind').selectOption('pull');
        assert.equal(await page.locator('#destination-url').isVisible(), false, 'a pull destination has no URL');
        await page.locator('#destination-name').fill('feed');
        for (const box of await page.locator('#destination-types input[type="checkbox"]').all()) {
          await box.setChecked((await box.getAttribute('value')) === 'lead.created');
        }
        await page.locator('#create-destination').click();
        const pullBox = page.locator('#destination-created', { hasText: 'Destination feed created' });
        await pullBox.waitFor();
        const shown = await pullBox.locator('code.secret').allTextContents();
        assert.equal(shown.length, 2, 'the signing secret and the feed token');
        assert.match(shown[1] as string, /^dgf_/);
        await row('feed').locator('.dest-url', { hasText: 'pull feed: GET /feeds/v1/feed' }).waitFor();
        assert.equal(await page.locator('#destination-url').isVisible(), true, 'the form is back to a webhook');

        // An email destination: recipients instead of a URL; its format is adf-xml, which carries leads only.
        await page.locator('#destination-kind').selectOption('email');
        assert.equal(await page.locator('#destination-url').isVisible(), false, 'an email destination has no URL');
        assert.equal(await page.locator('#destination-to').isVisible(), true);
        assert.equal(await page.locator('#destination-format').inputValue(), 'adf-xml');
        assert.equal(await page.locator('#destination-format').isDisabled(), true, 'an email destination sends ADF documents');
        assert.equal(await page.locator('#destination-types input[value="chat_summary.processed"]').isDisabled(), true, 'leads only');
        await page.locator('#destination-name').fill('crm-mail');
        await page.locator('#destination-types input[value="lead.created"]').check();
        await page.locator('#create-destination').click();
        await page.locator('#destination-form-feedback .notice.error', { hasText: 'To: at least one address' }).waitFor();
        assert.equal(await page.locator('#destination-to.invalid').count(), 1);
        // An address the service refuses: the field is named and marked.
        await page.locator('#destination-to').fill('leads at crm');
        await page.locator('#create-destination').click();
        await page.locator('#destination-form-feedback .notice.error', { hasText: "Not created: Field 'to[0]' must match" }).waitFor();
        assert.equal(await page.locator('#destination-to.invalid').count(), 1);
        await page.locator('#destination-to').fill('leads@crm.example.com,\nbackup@dealer.example.com');
        await page.locator('#create-destination').click();
        const mailBox = page.locator('#destination-created', { hasText: 'Destination crm-mail created' });
        await mailBox.waitFor();
        assert.match(
          String(await mailBox.textContent()),
          /mailed to leads@crm\.example\.com, backup@dealer\.example\.com as an ADF document/,
        );
        assert.equal(await mailBox.locator('code.secret').count(), 0, 'an email destination signs nothing: no secret to copy');
        await row('crm-mail').locator('.dest-url', { hasText: 'email → leads@crm.example.com, backup@dealer.example.com' }).waitFor();
        assert.equal(await row('crm-mail').locator('.format-tag').textContent(), 'ADF/XML');
        assert.equal(await row('crm').locator('.format-tag').count(), 0, 'a json destination is not marked');
        assert.equal(await action('crm-mail', 'rotate').isVisible(), false, 'nothing to rotate');
        const mailDest = (await api('GET', '/destinations/crm-mail')).json() as Record<string, unknown>;
        assert.deepEqual(
          { kind: mailDest.kind, format: mailDest.format, url: mailDest.url, to: mailDest.to, eventTypes: mailDest.eventTypes },
          {
            kind: 'email',
            format: 'adf-xml',
            url: null,
            to: ['leads@crm.example.com', 'backup@dealer.example.com'],
            eventTypes: ['lead.created'],
          },
        );
        assert.equal(await page.locator('#destination-format').isDisabled(), false, 'the form is back to a webhook, its format free');
        assert.equal(await page.locator('#destination-types input[value="chat_summary.processed"]').isDisabled(), false);

        // Never shown again: not after a reload.
        await page.reload();
        await row('crm').waitFor();
        assert.equal((await page.content()).includes(crmSecret), false, 'the secret is not on the page any more');
        assert.equal(await page.locator('code.secret').count(), 0);

        // ---- a test send: delivered, 204, signed with the secret shown ----
        received.length = 0;
        await action('crm', 'test').click();
        const result = row('crm').locator('.test-result');
        await result.waitFor();
        assert.equal(await result.getAttribute('data-delivered'), 'true');
        assert.match(String(await result.textContent()), /Delivered.*HTTP 204/);
        const sent = received.find((r) => r.path === '/ok') as Received;
        const verified = new Webhook(crmSecret).verify(sent.body, {
          'webhook-id': String(sent.headers['webhook-id']),
          'webhook-timestamp': String(sent.headers['webhook-timestamp']),
          'webhook-signature': String(sent.headers['webhook-signature']),
        }) as { data: { test?: boolean } };
        assert.equal(verified.data.test, true, 'the secret shown is the one that signs');

        // ---- the email destination: a test lead mailed, the mail server's reply shown ----
        await action('crm-mail', 'test').click();
        const mailResult = row('crm-mail').locator('.test-result');
        await mailResult.waitFor();
        assert.equal(await mailResult.getAttribute('data-delivered'), 'true');
        assert.match(String(await mailResult.textContent()), /Delivered.*SMTP 250/);
        assert.match(String(await mailResult.textContent()), /The mail server answered:/);
        assert.deepEqual(mails().at(-1)?.to, ['leads@crm.example.com', 'backup@dealer.example.com']);
        assert.match(String(mails().at(-1)?.raw), /adf/);

        // ---- edited: the form filled with it, saved in place ----
        await action('crm-mail', 'edit').click();
        await page.getByRole('heading', { name: 'Edit destination crm-mail' }).waitFor();
        assert.equal(await page.locator('#destination-name').inputValue(), 'crm-mail');
        assert.equal(await page.locator('#destination-name').isDisabled(), true, 'the name stays');
        assert.equal(await page.locator('#destination-kind').inputValue(), 'email');
        assert.equal(await page.locator('#destination-kind').isDisabled(), true, 'the kind stays');
        assert.equal(await page.locator('#destination-format').inputValue(), 'adf-xml');
        assert.equal(await page.locator('#destination-url').isVisible(), false);
        assert.equal(await page.locator('#destination-to').inputValue(), 'leads@crm.example.com, backup@dealer.example.com');
        assert.equal(await page.locator('#destination-types input[value="lead.created"]').isChecked(), true);
        assert.equal(await page.locator('#destination-types input[value="lead.updated"]').isChecked(), false);
        await page.locator('#destination-to').fill('leads@crm.example.com');
        await page.locator('#destination-types input[value="lead.updated"]').check();
        await page.locator('#create-destination').click();
        await page.locator('#destination-saved', { hasText: 'Destination crm-mail saved' }).waitFor();
        await row('crm-mail')
          .locator('.dest-url', { hasText: /^email → leads@crm\.example\.com$/ })
          .waitFor();
        const edited = (await api('GET', '/destinations/crm-mail')).json() as Record<string, unknown>;
        assert.deepEqual(
          [edited.to, edited.eventTypes, edited.format],
          [['leads@crm.example.com'], ['lead.created', 'lead.updated'], 'adf-xml'],
        );
        await page.getByRole('heading', { name: 'New destination' }).waitFor();
        assert.equal(await page.locator('#destination-name').isDisabled(), false, 'the form creates again');
        assert.equal(await page.locator('#destination-url').isVisible(), true);

        // ---- one attempt only, against a receiver that fails ----
        await createThroughForm('flaky', `${receiver}/flaky`, ['lead.created', 'lead.updated'], '0');
        assert.match(String(await row('flaky').textContent()), /1 attempt \(0 s\)/);
        flaky = 500;
        await saveLead('console-lead-1');
        await waitFor('the lead save delivered to crm', async () => (await messages('destination=crm&status=DELIVERED')).length === 1);
        await waitFor('a dead letter for flaky', async () => (await messages('destination=flaky&status=FAILED')).length === 1);
        // A test send reads the health again.
        await action('crm', 'test').click();
        await row('flaky').locator('.badge.health.failing').waitFor();
        assert.equal(await row('flaky').locator('td.failed').textContent(), '1');
        await shot(page, 'deliveries');

        // ---- the messages view, its filter, a message and its attempt log ----
        await page.locator('#open-messages').click();
        await page.locator('#messages').waitFor();
        await page.locator('#message-filters select[name="destination"]').selectOption('crm');
        await page.waitForURL(/destination=crm/);
        await page.waitForFunction(() => {
          const rows = [...document.querySelectorAll('#messages tbody tr')];
          return rows.length > 0 && rows.every((r) => r.dataset.destination === 'crm');
        });
        const delivered = messageRows().filter({ has: page.locator('.badge.DELIVERED') });
        assert.equal(await delivered.count(), 1);
        assert.equal(await delivered.getAttribute('data-type'), 'lead.created');
        await delivered.locator('a.open').click();
        await page.locator('#message-id').waitFor();
        assert.equal(await page.locator('.title-row .badge').textContent(), 'DELIVERED');
        assert.equal(await page.locator('#retry-message').isVisible(), false, 'no Retry on a delivered message');
        assert.match(String(await page.locator('#envelope').textContent()), /"type": "lead.created"/);
        assert.match(String(await page.locator('#envelope').textContent()), /"leadId": "console-lead-1"/);
        assert.deepEqual(
          await page.locator('#attempt-log tbody tr').evaluateAll((rows) => rows.map((r) => (r as PageElement).dataset.statusCode)),
          ['204'],
        );

        // ---- the dead letter: its log shows the receiver's markup as text; retried once fixed ----
        await page.goto(`${base}/console#/deliveries`);
        await row('flaky').locator('td.failed a').click();
        await page.waitForURL(/destination=flaky&status=FAILED/);
        await page.locator('#messages tbody tr[data-status="FAILED"]').waitFor();
        assert.equal(await messageRows().count(), 1);
        await messageRows().first().locator('a.open').click();
        await page.locator('.title-row .badge.FAILED').waitFor();
        assert.equal(await page.locator('#retry-message').isVisible(), true);
        const firstAttempt = page.locator('#attempt-log tbody tr').first();
        assert.equal(await firstAttempt.getAttribute('data-status-code'), '500');
        assert.equal(await firstAttempt.locator('pre.body').textContent(), HOSTILE_BODY);
        assert.match(String(await firstAttempt.locator('pre.headers').textContent()), /x-receiver: <script>window.__xss = 6<\/script>/);
        assert.equal(await page.locator('#view img, #view script').count(), 0);
        flaky = 204;
        await page.locator('#retry-message').click();
        await page.locator('.title-row .badge.DELIVERED').waitFor();
        await page.getByText('Delivered after the retry').waitFor();
        assert.equal(await page.locator('#attempt-log tbody tr').count(), 2);
        assert.equal(await page.locator('#attempt-log tbody tr').nth(1).getAttribute('data-status-code'), '204');
        assert.equal(await page.locator('#retry-message').isVisible(), false);
        await shot(page, 'delivery-message');

        // ---- a mailed lead: its ADF document as text, its attempt an SMTP reply ----
        await waitFor('the lead mailed', async () => (await messages('destination=crm-mail&status=DELIVERED')).length === 1);
        const [mailed] = await messages('destination=crm-mail&status=DELIVERED');
        const mailedId = String(mailed?.id);
        const mailedAnswer = await api('GET', `/messages/${mailedId}`);
        if (mailedAnswer.statusCode !== 200) {
          // The service cannot answer this message yet (its payload is XML, not JSON): said, and the
          // page is checked with the answer it is to give — the message as listed, its document as a
          // string, its attempt an SMTP reply (a status code, the server's text, no headers).
          t.diagnostic(
            `GET /admin/v1/messages/{id} of an ADF message answers ${mailedAnswer.statusCode}: its page is checked with a stand-in`,
          );
          const listed = (await api('GET', '/messages?destination=crm-mail&status=DELIVERED')).json().items[0] as Record<string, string>;
          const adfDocument = (await api('GET', `/dealers/d-1/leads/${String(mailed?.sourceId)}/adf`)).body;
          const attempt = { attempt: 1, at: listed.deliveredAt, durationMs: 120, statusCode: 250, responseHeaders: null, error: null };
          const standIn = { ...listed, payload: adfDocument, attemptLog: [{ ...attempt, responseBody: '250 OK: message queued' }] };
          await page.route(`**/admin/v1/messages/${mailedId}`, (route) =>
            route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(standIn) }),
          );
        }
        await page.goto(`${base}/console#/deliveries/messages/${mailedId}`);
        await page.locator('#message-id').waitFor();
        assert.equal(await page.locator('#envelope').getAttribute('data-format'), 'xml');
        assert.match(String(await page.locator('#envelope pre.xml').textContent()), /<adf>[\s\S]*<email>jane\.doe@example\.com<\/email>/);
        assert.match(String(await page.locator('#attempt-log tbody tr').first().locator('td.result').textContent()), /^SMTP 250/);
        assert.match(String(await page.locator('#attempt-log').textContent()), /Server reply/);
        await page.unrouteAll();

        // ---- from an event's detail to its messages ----
        const requestId = await acceptEvent(ctx().app, chatBody({ chat_code: 'DELIVERIES-1' }));
        await processAll(ctx());
        await waitFor('the event delivered', async () => (await messages(`source=${requestId}&status=DELIVERED`)).length === 1);
        await page.goto(`${base}/console#/events/${requestId}`);
        await page.locator('#event-messages').click();
        await page.waitForURL(new RegExp(`source=${requestId}`));
        await page.locator('#messages tbody tr[data-type="chat_summary.processed"]').waitFor();
        assert.equal(await messageRows().count(), 1);
        assert.equal(await page.locator('#message-filters input[name="source"]').inputValue(), requestId);
        assert.equal(await messageRows().first().locator(`td.source a[href="#/events/${requestId}"]`).count(), 1);

        // ---- retry all FAILED matching a filter ----
        flaky = 500;
        await saveLead('console-lead-2');
        await saveLead('console-lead-3');
        await waitFor('two more dead letters', async () => (await messages('destination=flaky&status=FAILED')).length === 2);
        flaky = 204;
        await page.goto(`${base}/console#/deliveries/messages?destination=flaky&status=FAILED`);
        await page.waitForFunction(() => document.querySelectorAll('#messages tbody tr').length === 2);
        await page.locator('#retry-all').click();
        await page.locator('#retry-all-confirm').click();
        assert.equal(await page.locator('#retry-all-result').getAttribute('data-retried'), '2');
        await waitFor('all of flaky delivered', async () => (await messages('destination=flaky')).every((m) => m.status === 'DELIVERED'));
        await page.getByRole('button', { name: 'Refresh the list' }).click();
        await page.locator('#no-messages').waitFor();

        // ---- a page at a time ----
        await page.goto(`${base}/console#/deliveries/messages?destination=flaky&limit=2`);
        await page.waitForFunction(() => document.querySelectorAll('#messages tbody tr').length === 2);
        await page.locator('#load-more').click();
        await page.waitForFunction(() => document.querySelectorAll('#messages tbody tr').length === 3);
        assert.equal(await page.locator('#load-more').isVisible(), false);
        assert.match(String(await page.locator('#messages-count').textContent()), /^3 messages shown$/);

        // ---- recover since a time ----
        flaky = 500;
        await saveLead('console-lead-4');
        await waitFor('another dead letter', async () => (await messages('destination=flaky&status=FAILED')).length === 1);
        flaky = 204;
        await page.goto(`${base}/console#/deliveries`);
        await action('flaky', 'recover').click();
        const since = row('flaky').locator('input[name="since"]');
        await since.waitFor();
        assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'since', 'the time input has the focus');
        await row('flaky').getByRole('button', { name: 'Send them again' }).click();
        await row('flaky').getByText('1 failed message sent again').waitFor();
        await waitFor('recovered', async () => (await messages('destination=flaky')).every((m) => m.status === 'DELIVERED'));

        // ---- disable, enable (keyboard), rotate (confirmed), delete (confirmed) ----
        await action('crm', 'disable').click();
        await row('crm').locator('.badge.health.disabled').waitFor();
        await action('crm', 'enable').focus();
        await page.keyboard.press('Enter');
        await row('crm').locator('.badge.health.healthy').waitFor();

        await action('crm', 'rotate').click();
        await row('crm').getByRole('button', { name: 'Cancel' }).click();
        assert.equal(await row('crm').locator('.output-row').isVisible(), false, 'cancelled: nothing rotated');
        await action('crm', 'rotate').click();
        await row('crm').getByRole('button', { name: 'Rotate it' }).click();
        const rotated = String(await row('crm').locator('code.secret').textContent());
        assert.match(rotated, /^whsec_/);
        assert.notEqual(rotated, crmSecret);
        assert.match(String(await row('crm').locator('.secret-box').textContent()), /previous secret also signs until/);

        await action('xss-probe', 'delete').click();
        await row('xss-probe').getByRole('button', { name: 'Delete it' }).click();
        await page.getByText('Deleted xss-probe.').waitFor();
        assert.equal(await row('xss-probe').count(), 0);
        assert.equal((await api('GET', '/destinations/xss-probe')).statusCode, 404);

        // ---- the dealer view: a lead's JSON beside its ADF preview, or why there is none ----
        const reachable = await saveLead('console-lead-adf');
        const unreachable = await saveLead('console-lead-no-contact', { customer: { uuid: 'c-3' }, vehicle: { uuid: 'v-3' } });
        await page.goto(`${base}/console#/dealers?dealer=d-1`);
        const leadRow = (prospect: string) => page.locator(`#leads tr.link[data-prospect="${prospect}"]`);
        const leadDetail = (prospect: string) => page.locator(`#leads tr.lead-detail[data-prospect="${prospect}"]`);
        await leadRow(reachable).locator('button[data-action="lead-detail"]').click();
        const adf = leadDetail(reachable).locator('.lead-adf pre.xml');
        await adf.waitFor();
        const xml = String(await adf.textContent());
        assert.equal(xml, (await api('GET', `/dealers/d-1/leads/${reachable}/adf`)).body, 'the document the service answers, as text');
        assert.match(xml, /^<\?xml version="1.0"\?>\n<\?adf version="1.0"\?>/);
        assert.match(xml, /<email>jane\.doe@example\.com<\/email>/);
        await leadDetail(reachable).locator('.lead-json .line', { hasText: '"leadId": "console-lead-adf"' }).waitFor();
        assert.equal(await leadRow(reachable).locator('button').getAttribute('aria-expanded'), 'true');
        // The row itself opens a lead too; the one with no contact says why it has no document.
        await leadRow(unreachable).click();
        const noDocument = leadDetail(unreachable).locator('.lead-adf .notice.warn');
        await noDocument.waitFor();
        assert.match(String(await noDocument.textContent()), /ADF_NO_CONTACT.*customer c-3 has neither/);
        assert.equal(await leadDetail(unreachable).locator('pre.xml').count(), 0);
        await leadDetail(unreachable).locator('.lead-json .line', { hasText: '"leadId": "console-lead-no-contact"' }).waitFor();
        await leadRow(unreachable).click();
        assert.equal(await leadDetail(unreachable).count(), 0, 'closed again');
        // The leads at the top of the window, the preview under them.
        await page.locator('h2', { hasText: 'Leads' }).evaluate((el) => (el as unknown as { scrollIntoView(): void }).scrollIntoView());
        await page.evaluate(() => window.scrollBy(0, -16));
        await shot(page, 'lead-adf', false);

        // ---- nothing ran, nothing was refused ----
        assert.equal(await page.evaluate(() => window.__xss), undefined, 'no markup ran');
        const violations = await page.evaluate(() => window.__csp);
        assert.deepEqual([...cspReports, ...violations], [], 'no Content-Security-Policy violation');
        assert.deepEqual(pageErrors, [], 'no error in the page');
      } catch (err) {
        const failure = join(SCRATCH, `failure-${ctx().tdb.dialect}.png`);
        await page.screenshot({ path: failure, fullPage: true }).catch(() => {});
        t.diagnostic(`failure screenshot: ${failure}`);
        throw err;
      } finally {
        await context.close();
      }
    });
  },
);
