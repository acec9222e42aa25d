// `apply` from another process while the service is writing: every apply succeeds and every
// request succeeds (SQLite: the apply holds the write lock from its first statement, so it waits
// for the service instead of failing with SQLITE_BUSY; PostgreSQL: ordinary row locks).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

describeEachDialect('apply while the service writes', { fixture: baseFixture }, (ctx) => {
  test('concurrent applies and lead saves all succeed', async () => {
    const other = ctx().tdb.connectAgain().kysely; // the "other process"
    let saving = true;
    const statuses: number[] = [];
    const saver = (async () => {
      for (let i = 0; saving; i++) {
        const res = await ctx().app.inject({
          method: 'POST',
          url: '/leads/v2/dealer/d-1',
          headers: { authorization: basic('writer', PASSWORD) },
          payload: leadBody({ leadId: `concurrent-${i % 7}` }),
        });
        statuses.push(res.statusCode);
      }
    })();
    try {
      for (let round = 0; round < 8; round++) {
        const report = await applyProvisioning(other, {
          dealers: [{ uuid: 'd-1', name: `Test Imports LLC (round ${round})` }],
          customers: [{ dealer: 'd-1', uuid: `c-concurrent-${round}`, vehicles: [{ uuid: `v-concurrent-${round}` }] }],
        });
        assert.equal(report.changed, true);
      }
    } finally {
      saving = false;
      await saver;
    }
    assert.ok(statuses.length > 0);
    assert.deepEqual([...new Set(statuses)], [200]);
  });
});
