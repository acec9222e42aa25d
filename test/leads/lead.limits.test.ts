// Bodies built to make the service do unbounded work get a bounded answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

describeEachDialect('leads: limits', { fixture: baseFixture }, (ctx) => {
  const save = (payload: object | string) =>
    ctx().app.inject({
      method: 'POST',
      url: '/leads/v2/dealer/d-1',
      headers: { authorization: basic('writer', PASSWORD), 'content-type': 'application/json' },
      payload,
    });

  test('a body nested deeper than 64 levels → 400 naming where, not a 500', async () => {
    // Built as text: JSON.stringify itself cannot nest this deep.
    const body = JSON.stringify(leadBody({ leadId: 'deep' })).replace(/}$/, `,"extra":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    const res = await save(body);
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().errorCode, 'VALIDATION_FAILED');
    assert.match(res.json().message, /^Field 'extra(\[0\])+' is nested deeper than 64 levels$/);
  });

  test('thousands of unknown fields: 20 named warnings and one that counts the rest', async () => {
    const extra = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`x${i}`, i]));
    const res = await save(leadBody({ leadId: 'wide', ...extra }));
    assert.equal(res.statusCode, 200);
    const warnings = res.json().warnings as { warningCode: string; warningDescription: string }[];
    assert.equal(warnings.length, 21);
    assert.ok(warnings.every((w) => w.warningCode === 'UNKNOWN_FIELD'));
    assert.equal(warnings[0]?.warningDescription, "Field 'x0' is not part of the lead contract and was ignored");
    assert.equal(warnings[20]?.warningDescription, '4980 more unknown fields were ignored');
  });
});
