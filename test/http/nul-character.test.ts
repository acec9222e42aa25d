// U+0000 is valid JSON but cannot be stored in PostgreSQL text: every input carrying it must get
// a clear 400 naming the field — on both databases, never a 500.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const multi = basic('multi', PASSWORD);

describeEachDialect('NUL characters in input', { fixture: baseFixture }, (ctx) => {
  for (const [field, body] of [
    ['leadId', leadBody({ leadId: 'L\u00001' })],
    ['customer.uuid', leadBody({ customer: { uuid: 'c-1\u0000' } })],
    ['services[0].code', leadBody({ services: [{ code: 'A\u0000' }] })],
  ] as const) {
    test(`a lead whose ${field} holds U+0000 → 400 naming the field`, async () => {
      const res = await ctx().app.inject({ method: 'POST', url: '/leads/v2/dealer/d-1', headers: { authorization: multi }, payload: body });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().errorCode, 'VALIDATION_FAILED');
      assert.match(res.json().message, new RegExp(`'${field.replace(/[[\]]/g, '\\$&')}'.*NUL`));
    });
  }

  test('a dealer path parameter holding U+0000 (MultiDealer caller) → 400, not a database error', async () => {
    const res = await ctx().app.inject({
      method: 'POST',
      url: '/leads/v2/dealer/d-1%00',
      headers: { authorization: multi },
      payload: leadBody(),
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.json().message, /dealerUuid.*NUL/);
  });

  test('an event status id holding U+0000 → 400 in the events envelope', async () => {
    const res = await ctx().app.inject({
      method: 'GET',
      url: '/service-pre-diag/third-party-events/vehicle-service-chat/v1/abc%00def',
      headers: { authorization: basic('events-only', PASSWORD) },
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().errors[0].errorCode, 'VALIDATION_FAILED');
  });
});
