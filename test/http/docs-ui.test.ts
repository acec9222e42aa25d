// The interactive API reference at /docs (src/openapi/docs-ui.ts): served by the app itself, on both
// dialects, with every asset from this origin and a CSP that lets nothing else in.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';

// Like test/console/browser.test.ts: Debian's chromium (.ci/run installs it), skipped without it.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

for (const dialect of testDialects()) {
  describe(`/docs (${dialect})`, () => {
    let tdb: TestDatabase;
    let app: FastifyInstance;
    before(async () => {
      tdb = await createTestDatabase(dialect, { ADMIN_TOKEN: 'x'.repeat(32) });
      app = await buildApp(tdb.config, { db: tdb.db, logger: false });
    });
    after(async () => {
      await app.close();
      await tdb.destroy();
    });

    test('answers HTML whose assets are all same-origin, under a CSP that allows only them', async () => {
      const res = await app.inject({ method: 'GET', url: '/docs' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.ok(res.headers['x-request-id'], 'X-Request-Id');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /style-src 'self'[ ;]/);
      assert.match(csp, /connect-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /https?:|\*|'unsafe-inline'|'unsafe-eval'/, 'the CSP names no other origin and allows no inline code');

      const html = res.body;
      assert.doesNotMatch(html, /https?:\/\//i, 'no absolute http(s) URL (another host) in the HTML');
      assert.doesNotMatch(html, /(src|href)\s*=\s*"\/\//i, 'no protocol-relative URL in the HTML');
      assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/i, 'no inline script');
      const refs = [...html.matchAll(/\s(?:src|href)\s*=\s*"([^"]+)"/gi)].map((m) => m[1] as string);
      assert.ok(refs.length >= 3, `assets referenced: ${refs.join(', ')}`);
      for (const ref of refs) {
        assert.ok(ref.startsWith('/docs/') || ref.startsWith('./'), `${ref} is an asset of this origin under /docs`);
        const asset = await app.inject({ method: 'GET', url: new URL(ref, 'http://gateway.test/docs/').pathname });
        assert.equal(asset.statusCode, 200, `${ref} is served`);
      }
    });

    test('serves its assets with their content types', async () => {
      const cases: [string, RegExp][] = [
        ['/docs/static/swagger-ui-bundle.js', /^application\/javascript/],
        ['/docs/static/swagger-initializer.js', /^application\/javascript/],
        ['/docs/static/swagger-ui.css', /^text\/css/],
        ['/docs/static/favicon-32x32.png', /^image\/png/],
      ];
      for (const [url, type] of cases) {
        const res = await app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200, url);
        assert.match(String(res.headers['content-type']), type, url);
        assert.ok(res.headers['content-security-policy'], `${url}: CSP`);
      }
      // The initializer loads the document from this origin, and no validator from another.
      const init = (await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })).body;
      assert.match(init, /resolveUrl\('\.\/json'\)/);
      assert.match(init, /validatorUrl: null/);
      assert.equal((await app.inject({ method: 'GET', url: '/docs/static/no-such-file.js' })).statusCode, 404);
    });

    test('shows the same operations as /openapi.json, calling this origin, and is hidden from it', async () => {
      const served = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const shown = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
      assert.deepEqual(shown.paths, served.paths);
      assert.deepEqual(shown.servers, [{ url: '/', description: 'This service' }]);
      assert.deepEqual(
        Object.keys(served.paths).filter((p) => p.startsWith('/docs')),
        [],
        '/docs and its assets are not operations of the API',
      );
    });

    test('renders in a browser under its CSP, loading nothing from another origin', async (t) => {
      if (dialect !== testDialects()[0]) return t.skip('the page does not depend on the database: checked on one dialect');
      if (!existsSync(CHROMIUM)) return t.skip(`no chromium at ${CHROMIUM} (apt-get install chromium)`);
      await app.listen({ port: 0, host: '127.0.0.1' });
      const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage();
        const problems: string[] = [];
        const elsewhere: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text());
        });
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('request', (r) => {
          if (!r.url().startsWith(`${origin}/`) && !r.url().startsWith('data:')) elsewhere.push(r.url());
        });
        await page.goto(`${origin}/docs`);
        await page.waitForSelector('.opblock', { timeout: 20_000 });
        const served = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
        const operations = Object.values<object>(served.paths).reduce((n, item) => n + Object.keys(item).length, 0);
        assert.equal(await page.locator('.opblock').count(), operations, 'every operation is shown');
        await page.locator('.opblock-summary').first().click();
        await page.waitForSelector('.responses-table .response');
        assert.deepEqual(problems, [], 'no CSP violation or script error');
        assert.deepEqual(elsewhere, [], 'nothing requested from another origin');
      } finally {
        await browser.close();
      }
    });
  });
}
