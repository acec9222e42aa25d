import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const writer = basic('writer', PASSWORD);

describeEachDialect('leads: happy path', { fixture: baseFixture }, (ctx) => {
  const save = (body: unknown, dealer = 'd-1', auth = writer) =>
    ctx().app.inject({ method: 'POST', url: `/leads/v2/dealer/${dealer}`, headers: { authorization: auth }, payload: body as object });

  test('first save creates the lead and answers the documented envelope', async () => {
    const res = await save(leadBody({ leadId: 'happy-1' }));
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['error', 'isNewCreated', 'prospectUuid', 'statusCode', 'warnings']);
    assert.equal(body.error, null);
    assert.equal(body.isNewCreated, true);
    assert.equal(body.statusCode, 200);
    assert.deepEqual(body.warnings, []);
    assert.match(body.prospectUuid, /^[0-9a-f-]{36}$/);
  });

  test('saving the same leadId again updates the same lead', async () => {
    const first = (await save(leadBody({ leadId: 'happy-2' }))).json();
    const second = (await save(leadBody({ leadId: 'happy-2', lastContactDate: '2023-07-01 09:30:00Z' }))).json();
    assert.equal(second.isNewCreated, false);
    assert.equal(second.prospectUuid, first.prospectUuid);
    const read = await ctx().app.inject({
      method: 'GET',
      url: `/leads/v2/dealer/d-1/lead/${first.prospectUuid}`,
      headers: { authorization: writer },
    });
    assert.equal(read.statusCode, 200);
    assert.equal(read.json().lead.lastContactDate, '2023-07-01 09:30:00Z');
    assert.equal(read.json().lead.saveCount, 2);
  });
});
