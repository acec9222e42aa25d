// GET / answers where to go: a JSON document of links by default, a small HTML page of the same
// links for a browser (Accept prefers text/html). Every link leads somewhere, nothing reveals the
// version or the configuration, and the operation is in the OpenAPI document.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VERSION } from '../../src/core/version.js';
import { acceptQuality } from '../../src/openapi/root.routes.js';
import { describeEachDialect } from '../helpers/suite.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const PAGES = ['/console', '/docs', '/openapi.json', '/healthz', '/readyz', '/metrics'];

interface RootDocument {
  service: string;
  links: { rel: string; href: string; title: string }[];
}

describeEachDialect('GET /', {}, (ctx) => {
  test('JSON by default: the service name and a link to each public page, every one of them live', async () => {
    const { app } = ctx();
    for (const headers of [{}, { accept: 'application/json' }, { accept: '*/*' }]) {
      const res = await app.inject({ method: 'GET', url: '/', headers });
      assert.equal(res.statusCode, 200, JSON.stringify(headers));
      assert.match(String(res.headers['content-type']), /^application\/json/, JSON.stringify(headers));
      assert.equal(res.headers.vary, 'Accept');
      const doc = res.json() as RootDocument;
      assert.equal(doc.service, 'dealer-gateway');
      assert.deepEqual(
        doc.links.map((l) => l.href),
        PAGES,
      );
      for (const link of doc.links) assert.ok(link.rel && link.title, JSON.stringify(link));
    }
    for (const page of PAGES) {
      const res = await app.inject({ method: 'GET', url: page });
      assert.ok(res.statusCode < 400, `${page} answers ${res.statusCode}`);
    }
  });

  test('a browser gets a small HTML page of the same links, with nothing inline and a CSP that allows nothing', async () => {
    const res = await ctx().app.inject({ method: 'GET', url: '/', headers: { accept: BROWSER_ACCEPT } });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/);
    assert.equal(res.headers.vary, 'Accept');
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(res.body, /^<!doctype html>/);
    for (const page of PAGES) assert.ok(res.body.includes(`<a href="${page}">${page}</a>`), `a link to ${page}`);
    assert.doesNotMatch(res.body, /<script|<style|\sstyle=|\son\w+=/i);
  });

  test('HEAD / answers like GET /, without a body', async () => {
    const res = await ctx().app.inject({ method: 'HEAD', url: '/' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.body, '');
  });

  test('nothing about the running service: no version, no configuration', async () => {
    for (const accept of ['application/json', BROWSER_ACCEPT]) {
      const res = await ctx().app.inject({ method: 'GET', url: '/', headers: { accept } });
      assert.ok(!res.body.includes(VERSION), `no version in ${accept}`);
      assert.ok(!res.body.includes(ctx().tdb.url), `no database URL in ${accept}`);
      assert.doesNotMatch(res.body, /sqlite:|postgres:|127\.0\.0\.1|node|\bv?\d+\.\d+\.\d+/i);
    }
  });

  test('the operation is in the OpenAPI document, with both media types', async () => {
    const doc = (await ctx().app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const op = doc.paths['/']?.get;
    assert.ok(op, 'GET / is documented');
    assert.equal(op.operationId, 'getRoot');
    assert.deepEqual(op.security, []);
    const content = op.responses['200'].content;
    assert.equal(content['application/json'].example.service, 'dealer-gateway');
    assert.match(content['text/html'].example, /<a href="\/console">/);
  });
});

test('Accept: the most specific range decides, q-values are weighed, and a tie is JSON', () => {
  const html = (accept: string | undefined) => acceptQuality(accept, 'text/html') > acceptQuality(accept, 'application/json');
  assert.equal(html(BROWSER_ACCEPT), true);
  assert.equal(html('text/html'), true);
  assert.equal(html('text/*;q=0.9, application/json;q=0.5'), true);
  assert.equal(html(undefined), false);
  assert.equal(html('*/*'), false);
  assert.equal(html('application/json, text/html;q=0.9'), false);
  assert.equal(html('text/html;q=0, */*'), false);
  assert.equal(acceptQuality('image/png', 'text/html'), 0);
});
