// A large provisioning file (more customers than either driver allows bound parameters in one
// statement) applies, and re-applies as a no-op.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';

const COUNT = 33_000; // > SQLite's 32 766 parameters per statement

for (const dialect of testDialects()) {
  describe(`apply: a large file [${dialect}]`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase(dialect);
    });
    after(async () => {
      await tdb.destroy();
    });

    test(`${COUNT} customers with a vehicle each: created, then unchanged`, async () => {
      const doc = {
        dealers: [{ uuid: 'd-big', name: 'Big Group' }],
        customers: Array.from({ length: COUNT }, (_, i) => ({ dealer: 'd-big', uuid: `c-${i}`, vehicles: [{ uuid: `v-${i}` }] })),
      };
      const first = await applyProvisioning(tdb.db.kysely, doc);
      assert.deepEqual(first.customers, { created: COUNT, updated: 0, unchanged: 0 });
      assert.deepEqual(first.vehicles, { created: COUNT, updated: 0, unchanged: 0 });
      const again = await applyProvisioning(tdb.db.kysely, doc);
      assert.equal(again.changed, false);
      assert.deepEqual(again.vehicles, { created: 0, updated: 0, unchanged: COUNT });
      const row = await tdb.db.kysely
        .selectFrom('vehicles')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(row.n), COUNT);
    });
  });
}
