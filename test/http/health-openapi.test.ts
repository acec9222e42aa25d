import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeEachDialect } from '../helpers/suite.js';

describeEachDialect('health and OpenAPI', {}, (ctx) => {
  test('/healthz answers ok', async () => {
    const res = await ctx().app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  test('/readyz answers ready when the database answers', async () => {
    const res = await ctx().app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ready' });
  });

  test('every response carries X-Request-Id, and a client cannot choose it', async () => {
    const res = await ctx().app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'chosen' } });
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('unknown routes answer 404 NOT_FOUND in the envelope of their family', async () => {
    const plain = await ctx().app.inject({ method: 'GET', url: '/nope' });
    assert.equal(plain.statusCode, 404);
    assert.equal(plain.json().error.code, 'NOT_FOUND');
    const leads = await ctx().app.inject({ method: 'GET', url: '/leads/v2/dealer/d-1/nope' });
    assert.equal(leads.statusCode, 404);
    assert.equal(leads.json().errorCode, 'NOT_FOUND');
    assert.equal(leads.json().path, '/leads/v2/dealer/d-1/nope');
    const events = await ctx().app.inject({ method: 'PUT', url: '/service-pre-diag/third-party-events/vehicle-service-chat/v2' });
    assert.equal(events.statusCode, 404);
    assert.deepEqual(
      events.json().errors.map((e: { errorCode: string }) => e.errorCode),
      ['NOT_FOUND'],
    );
  });

  test('/openapi.json documents every partner endpoint with Basic auth', async () => {
    const res = await ctx().app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.openapi, '3.0.3');
    assert.deepEqual(doc.components.securitySchemes.basicAuth, { type: 'http', scheme: 'basic' });
    const base = '/service-pre-diag/third-party-events/vehicle-service-chat/v1';
    const expected: [string, string][] = [
      ['/leads/v2/dealer/{dealerUuid}', 'post'],
      ['/leads/v2/dealer/{dealerUuid}/lead/{prospectUuid}', 'get'],
      [base, 'post'],
      [`${base}/{requestId}`, 'get'],
      ['/healthz', 'get'],
      ['/readyz', 'get'],
    ];
    for (const [path, method] of expected) {
      assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
    }
    const saveLead = doc.paths['/leads/v2/dealer/{dealerUuid}'].post;
    assert.deepEqual(saveLead.security, [{ basicAuth: [] }]);
    const schema = saveLead.requestBody.content['application/json'].schema;
    assert.deepEqual([...schema.required].sort(), [
      'customer',
      'dealerDetails',
      'lastContactDate',
      'leadType',
      'services',
      'status',
      'vehicle',
    ]);
  });
});
