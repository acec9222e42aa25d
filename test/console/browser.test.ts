// The operator console in a real browser (Debian's chromium driven by playwright-core) against
// the real app listening on a port, on SQLite. One operator's session: sign in; an event whose
// dealer id is not mapped is REJECTED; find it by status and by a word of its body; read its
// detail; fix the dealer map in Integrations with the live preview saying PROCESSED; save;
// replay; see it PROCESSED; read it in the dealer view, where the transcript's <script> is text
// and a javascript: media URL is no link. No CSP violation and no page error all along.
//
// Screenshots of the main pages go to a temporary folder, or to docs/screenshots/ with
// UPDATE_SCREENSHOTS=1. Without a chromium to launch (CHROMIUM_PATH, default /usr/bin/chromium)
// the test is skipped, saying why; .ci/run installs it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { acceptEvent, chatBody, drain, eventsFixture, makeWorker, PASSWORD, VIN_1 } from '../helpers/events.js';
import { freePort } from '../helpers/ports.js';
import { basic } from '../helpers/suite.js';

// The few browser globals the functions run in the page use (the project compiles without the DOM lib).
interface PageElement {
  readonly dataset: Record<string, string | undefined>;
  readonly classList: { contains(name: string): boolean };
  readonly textContent: string | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
}
declare const document: {
  readonly cookie: string;
  querySelectorAll(selector: string): Iterable<PageElement> & { readonly length: number };
  addEventListener(type: 'securitypolicyviolation', listener: (e: { violatedDirective: string; blockedURI: string }) => void): void;
};
declare const window: { __csp: string[]; __xss?: unknown; scrollTo(x: number, y: number): void };

const TOKEN = 'test-admin-token-0123456789abcdef';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
    : mkdtempSync(join(tmpdir(), 'dg-console-'));
const HOUR = 3_600_000;

/** A word no other event contains, to search for. */
const WORD = `quokka${Date.now().toString(36)}`;
const XSS = '<script>window.__xss = 1</script>';

const fixture = {
  ...eventsFixture,
  subscribers: [
    ...eventsFixture.subscribers,
    { username: 'lead-partner', password: PASSWORD, grants: [{ scope: 'lead.write', dealers: ['d-1'] }] },
  ],
};

let browser: Browser | undefined;
let skipReason: string | undefined;
let tdb: TestDatabase;
let app: FastifyInstance;
let base: string;

before(async () => {
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  } catch (err) {
    skipReason = `chromium cannot be launched from ${CHROMIUM} (install it: apt-get install chromium): ${(err as Error).message.split('\n')[0]}`;
    return;
  }
  tdb = await createTestDatabase('sqlite', { ADMIN_TOKEN: TOKEN });
  app = await buildApp(tdb.config, { db: tdb.db, logger: false });
  await applyProvisioning(tdb.db.kysely, fixture);
  await app.directory.refresh();
  const port = await freePort();
  await app.listen({ port, host: '127.0.0.1' });
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  await browser?.close();
  await app?.close();
  await tdb?.destroy();
});

/** Runs the pipeline over everything received (the app runs no worker of its own here). */
async function processAll(): Promise<void> {
  await app.directory.refresh();
  await drain(makeWorker(tdb.db, app.directory, tdb.config.worker));
}

/** A day of traffic for the overview: events spread over 24 hours, some rejected, and leads. */
async function seedHistory(): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < 60; i++) {
    const unmapped = i % 7 === 3;
    const partner = i % 5 === 0;
    ids.push(
      await acceptEvent(
        app,
        chatBody({
          chat_code: `HIST-${i}`,
          dealer_uuid: partner ? (unmapped ? 'P-404' : 'P-100') : unmapped ? 'EXT-404' : 'EXT-1',
          escalation_flag: i % 11 === 0,
        }),
        { username: partner ? 'partner' : 'multi-partner' },
      ),
    );
  }
  await processAll();
  // Spread them over the last day (the gate stamps them now).
  for (const [i, id] of ids.entries()) {
    const hoursAgo = (i * 7) % 24;
    await tdb.db.kysely
      .updateTable('events')
      .set((eb) => ({ received_at: eb('received_at', '-', hoursAgo * HOUR), processed_at: eb('processed_at', '-', hoursAgo * HOUR) }))
      .where('request_id', '=', id)
      .execute();
  }
  for (const [i, leadId] of ['US000000111199002', 'US000000111199003', 'US000000111199004'].entries()) {
    const res = await app.inject({
      method: 'POST',
      url: '/leads/v2/dealer/d-1',
      headers: { authorization: basic('lead-partner', PASSWORD) },
      payload: {
        customer: { uuid: 'c-1' },
        vehicle: { uuid: 'v-1', trackingId: `2-I509U2C${i}`, topic: 'WITH_CONTRACT' },
        dealerDetails: { name: 'Test Imports LLC', code: 'TI-1', source: 'MMC' },
        services: [{ name: 'Maintenance - Service A', code: `MBVANS-${i}`, type: 'business', dueDate: '2023-06-01' }],
        campaign: { name: 'MBVANS', code: 'A' },
        status: 'NEW',
        lastContactDate: '2023-06-08 11:00:00Z',
        leadId,
        leadType: i === 2 ? 'SERVICE_DEMAND' : 'RECALL',
      },
    });
    assert.equal(res.statusCode, 200, res.body);
  }
}

/** The request ids of the rows of the events list, top to bottom. */
function rowsShown(page: Page): Promise<(string | undefined)[]> {
  return page.locator('#events-table tbody tr').evaluateAll((rows) => rows.map((r) => (r as PageElement).dataset.requestId));
}

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** Whether the element is drawn as a secondary button. */
function isSecondary(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => (el as PageElement).classList.contains('secondary'));
}

/** A new browser context and page; what the page logs as an error, and its uncaught errors, are collected. */
async function newPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  if (browser === undefined) throw new Error('no browser');
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return { context, page, errors };
}

async function signInAt(page: Page, hash = ''): Promise<void> {
  await page.goto(`${base}/console${hash}`);
  await page.locator('#token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#topbar').waitFor();
}

test('an operator fixes a rejected event from the console, in a real browser', async (t) => {
  if (browser === undefined) {
    t.skip(skipReason);
    return;
  }
  mkdirSync(SHOTS, { recursive: true });
  t.diagnostic(`screenshots in ${SHOTS}`);
  await seedHistory();

  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const cspReports: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to (execute|load|apply|connect|frame)/i.test(msg.text())) cspReports.push(msg.text());
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const xss = () => page.evaluate(() => window.__xss);

  try {
    // ---- sign in (a wrong token first) ----
    const first = await page.goto(`${base}/console`);
    assert.equal(first?.status(), 200);
    assert.match(String(first?.headers()['content-security-policy']), /script-src 'self'/);
    await page.locator('#token').fill('not-the-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That is not the admin token.').waitFor();
    await page.locator('#token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'dgw_session');
    assert.ok(cookie?.httpOnly && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
    assert.equal(await page.evaluate(() => document.cookie.includes('dgw_session')), false, 'scripts cannot read the session');
    await page.locator('.tile.rejected .value').waitFor();
    assert.notEqual(await page.locator('.tile.received .value').textContent(), '0');
    assert.ok((await page.locator('svg.chart rect').count()) > 10, 'the hourly chart has bars');
    await shot(page, 'overview');

    // ---- an event whose dealer id is not mapped ----
    const requestId = await acceptEvent(
      app,
      chatBody({
        chat_code: 'CONSOLE-1',
        dealer_uuid: 'EXT-77',
        customer_name: 'Dana <b>Bold</b> Fischer',
        summary: `Brake judder at speed, ${WORD}; customer wants a quote before Friday.`,
        escalation_flag: true,
        transcript: [
          {
            customer: `Hello ${XSS} my brakes judder.`,
            assistant: 'Sorry to hear that. <img src=x onerror="window.__xss = 2"> Shall I book an inspection?',
          },
          { customer: 'Yes, Friday morning please.', assistant: 'Booked for Friday 8:30.' },
        ],
      }),
    );
    await processAll();

    // ---- live tail: a new event appears without reloading ----
    await page.locator('.nav a[data-section="events"]').click();
    await page.locator('#events-table').waitFor();
    await page.locator('#live-tail').check();
    const tailed = await acceptEvent(app, chatBody({ chat_code: 'TAIL-1' }));
    await page.locator(`tr[data-request-id="${tailed}"]`).waitFor();
    await page.locator('#live-tail').uncheck();

    // ---- find it: by status, then by a word of its body ----
    await page.locator('.chip.REJECTED').click();
    await page.waitForURL(/status=REJECTED/);
    // The list is drawn again: wait for the new rows, not the ones of the list before.
    await page.waitForFunction((id) => {
      const rows = [...document.querySelectorAll('#events-table tbody tr')];
      return rows.some((r) => r.dataset.requestId === id) && rows.every((r) => r.dataset.status === 'REJECTED');
    }, requestId);
    assert.ok((await rowsShown(page)).length > 1, 'other rejected events are listed too');
    await shot(page, 'events');
    await page.locator('input[name="q"]').fill(WORD);
    await page.locator('input[name="q"]').press('Enter');
    await page.waitForURL(new RegExp(`q=${WORD}`));
    await page.waitForFunction(() => document.querySelectorAll('#events-table tbody tr').length === 1);
    assert.deepEqual(await rowsShown(page), [requestId]);

    // ---- its detail ----
    await page.locator(`tr[data-request-id="${requestId}"]`).click();
    await page.locator('#event-id').waitFor();
    assert.equal(await page.locator('#event-id').textContent(), requestId);
    assert.equal(await page.locator('.title-row .badge').textContent(), 'REJECTED');
    assert.match(String(await page.locator('#event-errors').textContent()), /DEALER_NOT_MAPPED/);
    assert.match(String(await page.locator('#raw-body .line.hl').first().textContent()), /"dealer_uuid": "EXT-77"/);
    assert.ok(String(await page.locator('#raw-body').textContent()).includes(XSS), 'the raw body shows the markup as text');
    assert.equal(await xss(), undefined);
    await shot(page, 'event-detail');

    // ---- fix the dealer map, with the live preview ----
    const integrationRoute = await app.inject({
      method: 'GET',
      url: '/admin/v1/integrations/multi-partner/vehicle-service-chat',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    if (integrationRoute.statusCode === 200) {
      await page.locator('.nav a[data-section="integrations"]').click();
      // (The row opens it; its cells' links go elsewhere.)
      await page.locator('#integrations tr[data-subscriber="multi-partner"][data-event-type="vehicle-service-chat"] td').first().click();
      await page.locator('#integration-editor').waitFor();
      await page.locator('#preview-event').selectOption(requestId);
      await page.locator('#preview-status .badge.REJECTED').waitFor();
      await page.locator('textarea[name="dealerMap"]').fill(JSON.stringify({ 'EXT-1': 'd-1', 'EXT-2': 'd-2', 'EXT-77': 'd-1' }, null, 2));
      await page.locator('#preview-status .badge.PROCESSED').waitFor();
      await shot(page, 'integrations');
      await page.locator('#save-integration').click();
      await page.locator('#save-state', { hasText: 'Saved' }).waitFor();
    } else {
      t.diagnostic(`the integration routes answer ${integrationRoute.statusCode}: the mapping is fixed by provisioning instead`);
      const multi = fixture.integrations.find((i) => i.subscriber === 'multi-partner');
      await applyProvisioning(tdb.db.kysely, { integrations: [{ ...multi, dealerMap: { ...multi?.dealerMap, 'EXT-77': 'd-1' } }] });
    }

    // ---- replay one, then see it processed ----
    await page.goto(`${base}/console#/events/${requestId}`);
    assert.equal(await isSecondary(page.locator('#replay-event')), false, 'Replay is the primary action on a REJECTED event');
    await page.locator('#replay-event').click();
    await page.locator('.title-row .badge.RECEIVED').waitFor();
    await processAll();
    await page.locator('.title-row .badge.PROCESSED').waitFor();
    assert.equal(await isSecondary(page.locator('#replay-event')), true, 'Replay is a secondary action on a PROCESSED event');
    assert.match(String(await page.locator('#canonical').textContent()), /"dealer_uuid": "d-1"/);

    // ---- replay all matching: a job over the whole filter, followed to the end ----
    for (const code of ['BULK-1', 'BULK-2'])
      await acceptEvent(app, chatBody({ chat_code: code, dealer_uuid: 'P-999' }), { username: 'partner' });
    await processAll();
    await page.goto(`${base}/console#/events?status=REJECTED&subscriber=partner&errorCode=DEALER_NOT_MAPPED`);
    await page.locator('#events-table tbody tr').first().waitFor();
    const matching = await page.locator('#events-table tbody tr').count();
    await page.locator('#replay-all').click();
    await page.locator('#replay-all-confirm').click();
    await page.locator('#replay-progress[data-status="DONE"]').waitFor();
    assert.match(
      String(await page.locator('#replay-progress').textContent()),
      new RegExp(`${matching} of ${matching} matching events replayed`),
    );
    await processAll();

    // ---- the dealer view: staff's reading, partner text as text ----
    // A media URL that is not http(s), as if stored before the canonical check existed.
    const summary = await tdb.db.kysely
      .selectFrom('chat_summaries')
      .select('record')
      .where('request_id', '=', requestId)
      .executeTakeFirstOrThrow();
    const record = JSON.parse(summary.record) as { media: unknown[] };
    record.media.push({ type: 'image', url: 'javascript:window.__xss = 3' });
    await tdb.db.kysely
      .updateTable('chat_summaries')
      .set({ record: JSON.stringify(record) })
      .where('request_id', '=', requestId)
      .execute();
    await page.locator('.nav a[data-section="dealers"]').click();
    await page.locator('#dealers tr[data-dealer="d-1"]').click();
    const card = page.locator(`article.chat[data-request-id="${requestId}"]`);
    const dealerViewUp = await Promise.race([
      card.waitFor().then(() => true),
      page
        .locator('.notice.warn')
        .waitFor()
        .then(() => false),
    ]);
    if (dealerViewUp) {
      assert.ok(await card.evaluate((el) => el.classList.contains('escalated')), 'an escalation is highlighted');
      assert.ok(String(await card.locator('.conversation').textContent()).includes(XSS), 'the transcript shows <script> as text');
      assert.equal(await card.locator('.conversation script').count(), 0);
      assert.equal(await card.locator('img').count(), 0);
      assert.match(String(await card.locator('.who').textContent()), /Dana <b>Bold<\/b> Fischer/);
      assert.equal(await card.locator('a[href="https://cdn.example.com/pads.jpg"]').count(), 1, 'an https media URL is a link');
      assert.equal(await card.locator('.unsafe-url').textContent(), 'javascript:window.__xss = 3');
      assert.equal(await page.locator('a[href^="javascript:"]').count(), 0, 'a javascript: URL is never an href');
      await page.locator('#leads tbody tr').first().waitFor();
      assert.equal(await page.locator('#leads tbody tr').count(), 3);
      // Each lead names its customer and its vehicle's VIN; the ids are there, second.
      const lead = page.locator('#leads tbody tr').first();
      assert.equal(await lead.locator('td.customer .primary').textContent(), 'Jane Doe');
      assert.equal(await lead.locator('td.customer .secondary').textContent(), 'c-1');
      assert.equal(await lead.locator('td.vehicle .primary').textContent(), VIN_1);
      assert.equal(await lead.locator('td.vehicle .secondary').textContent(), 'v-1');
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, 'dealer', false);
    } else {
      t.diagnostic(`the dealer view routes are missing: ${await page.locator('.notice.warn').first().textContent()}`);
    }
    assert.equal(await xss(), undefined, 'no partner-supplied script ran');

    // ---- sign out ----
    await page.locator('#sign-out').click();
    await page.locator('#token').waitFor();
    assert.equal(
      (await context.cookies()).find((c) => c.name === 'dgw_session'),
      undefined,
    );
    const signedOut = await page.evaluate(async () => (await fetch('/admin/v1/events?limit=1')).status);
    assert.equal(signedOut, 401);

    // ---- no CSP violation, no script error, all along ----
    const violations = await page.evaluate(() => window.__csp);
    assert.deepEqual([...cspReports, ...violations], [], 'no Content-Security-Policy violation');
    assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
  } catch (err) {
    await page.screenshot({ path: join(SHOTS, 'failure.png'), fullPage: true }).catch(() => {});
    t.diagnostic(`failure screenshot: ${join(SHOTS, 'failure.png')}`);
    throw err;
  } finally {
    await context.close();
  }
});

test('signed out, the console loads without an error in the browser console', async (t) => {
  if (browser === undefined) {
    t.skip(skipReason);
    return;
  }
  const { context, page, errors } = await newPage();
  try {
    const probe = page.waitForResponse((res) => res.url().endsWith('/console/session'));
    await page.goto(`${base}/console#/dealers`);
    await page.locator('#token').waitFor();
    await page.waitForLoadState('networkidle');
    assert.deepEqual(errors, [], 'nothing is logged as an error on a signed-out load');
    assert.equal((await probe).status(), 200, 'the session check answers the signed-out state without an error status');
    // Signing in from there opens the page the address named.
    await page.locator('#token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#dealers').waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the Dealers page lists the dealers, by name or UUID, a page at a time', async (t) => {
  if (browser === undefined) {
    t.skip(skipReason);
    return;
  }
  // More dealers than one page holds.
  await applyProvisioning(tdb.db.kysely, {
    dealers: Array.from({ length: 55 }, (_, i) => ({ uuid: `zz-${String(i).padStart(2, '0')}`, name: `Zenith Motors ${i}` })),
  });
  const { context, page, errors } = await newPage();
  const listed = () => page.locator('#dealers tbody tr').evaluateAll((rows) => rows.map((r) => (r as PageElement).dataset.dealer));
  try {
    await signInAt(page, '#/dealers');
    await page.locator('#dealers tr[data-dealer="d-1"]').waitFor();
    const first = await listed();
    assert.deepEqual(first.slice(0, 3), ['d-1', 'd-2', 'd-3']);
    assert.equal(first.length, 50, 'one page');
    assert.match(String(await page.locator('#dealers tr[data-dealer="d-2"]').textContent()), /Harbor Motors/);
    await shot(page, 'dealers', false);
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#dealers tbody tr').length === 58);
    assert.equal((await listed()).at(-1), 'zz-54');

    // By the start of the name, case-insensitive; by the start of the UUID.
    await page.locator('input[name="q"]').fill('harbor');
    await page.locator('input[name="q"]').press('Enter');
    await page.waitForURL(/q=harbor/);
    await page.waitForFunction(() => document.querySelectorAll('#dealers tbody tr').length === 1);
    assert.deepEqual(await listed(), ['d-2']);
    await page.locator('input[name="q"]').fill('d-3');
    await page.locator('input[name="q"]').press('Enter');
    await page.waitForURL(/q=d-3/);
    await page.waitForFunction(() => [...document.querySelectorAll('#dealers tbody tr')].map((r) => r.dataset.dealer).join() === 'd-3');
    await page.locator('input[name="q"]').fill('nobody-is-called-this');
    await page.locator('input[name="q"]').press('Enter');
    await page.getByText('No dealer matches').waitFor();

    // A dealer opens its view, which leads back to the list.
    await page.goto(`${base}/console#/dealers`);
    await page.locator('#dealers tr[data-dealer="d-2"]').click();
    await page.waitForURL(/dealer=d-2/);
    await page.getByRole('heading', { name: 'Harbor Motors' }).waitFor();
    await page.locator('a.back').click();
    await page.locator('#dealers tr[data-dealer="d-2"]').waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the Integrations page lists every integration with its state and its latest event', async (t) => {
  if (browser === undefined) {
    t.skip(skipReason);
    return;
  }
  const sent = await acceptEvent(app, chatBody({ chat_code: 'INTEGRATIONS-LIST', store: { id: 'S-404' } }), { username: 'dotted' });
  await processAll();
  const { context, page, errors } = await newPage();
  const row = (subscriber: string) =>
    page.locator(`#integrations tr[data-subscriber="${subscriber}"][data-event-type="vehicle-service-chat"]`);
  try {
    await signInAt(page, '#/integrations');
    await page.locator('#integrations').waitFor();
    const subscribers = await page
      .locator('#integrations tbody tr')
      .evaluateAll((rows) => rows.map((r) => (r as PageElement).dataset.subscriber));
    assert.deepEqual(subscribers, [...fixture.integrations.map((i) => i.subscriber)].sort());
    assert.equal(await row('inactive-partner').locator('.state').textContent(), 'Inactive');
    assert.equal(await row('dotted').locator('.state').textContent(), 'Active');
    // Its latest event: status now, when, why, and a link to it.
    await row('dotted').locator('.last .badge.REJECTED').waitFor();
    assert.match(String(await row('dotted').locator('.last').textContent()), /DEALER_NOT_MAPPED/);
    assert.equal(await row('dotted').locator(`.last a[href="#/events/${sent}"]`).count(), 1);
    assert.match(String(await row('no-scope').locator('.last').textContent()), /No event yet/);
    await shot(page, 'integrations-list', false);

    await row('dotted').locator('td').first().click();
    await page.locator('#integration-editor').waitFor();
    assert.match(String(await page.locator('#integration-editor h2').textContent()), /dotted · vehicle-service-chat/);
    await page.locator('a.back').click();
    await page.locator('#integrations').waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the overview labels the current hour of each chart', async (t) => {
  if (browser === undefined) {
    t.skip(skipReason);
    return;
  }
  const { context, page, errors } = await newPage();
  try {
    await signInAt(page, '#/overview');
    await page.locator('svg.chart').first().waitFor();
    const charts = await page.locator('svg.chart').evaluateAll((svgs) => {
      const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).getHours();
      return {
        current: `${String(hour).padStart(2, '0')}:00`,
        labels: svgs.map((svg) =>
          [...(svg as PageElement).querySelectorAll('text')].map((t) => t.textContent ?? '').filter((text) => /^\d\d:00$/.test(text)),
        ),
      };
    });
    assert.equal(charts.labels.length, 2, 'the events chart and the leads chart');
    for (const labels of charts.labels) {
      assert.ok(labels.length >= 6, `hours are labelled: ${labels.join(' ')}`);
      assert.equal(labels.at(-1), charts.current, `the current hour is labelled last: ${labels.join(' ')}`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('Replay is the primary button only on REJECTED and FAILED events', async (t) => {
  if (browser === undefined) {
    t.skip(skipReason);
    return;
  }
  const rejected = await acceptEvent(app, chatBody({ chat_code: 'BUTTONS-BAD', dealer_uuid: 'EXT-4040' }));
  const processed = await acceptEvent(app, chatBody({ chat_code: 'BUTTONS-OK' }));
  await processAll();
  const { context, page, errors } = await newPage();
  try {
    await signInAt(page);
    await page.goto(`${base}/console#/events/${rejected}`);
    await page.locator('.title-row .badge.REJECTED').waitFor();
    assert.equal(await isSecondary(page.locator('#replay-event')), false, 'REJECTED: Replay is the primary button');
    await page.goto(`${base}/console#/events/${processed}`);
    await page.locator('.title-row .badge.PROCESSED').waitFor();
    assert.equal(await isSecondary(page.locator('#replay-event')), true, 'PROCESSED: Replay is a secondary button');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
