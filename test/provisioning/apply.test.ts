// `apply`: makes the database match a provisioning document, idempotently, all or nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { hashPassword, verifyPassword } from '../../src/auth/password.js';
import { ANY_DEALER } from '../../src/auth/scopes.js';
import type { Database } from '../../src/db/schema.js';
import { type ApplyReport, applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { ProvisioningError } from '../../src/provisioning/provisioning.validate.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';

const DEMO_TEXT = readFileSync(new URL('../../examples/demo.json', import.meta.url), 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: documents are deliberately edited into invalid shapes
type Doc = Record<string, any>;
/** A fresh, mutable copy of examples/demo.json. */
const demo = (): Doc => JSON.parse(DEMO_TEXT);

// Well-formed (isPasswordHash accepts it); never verified in these tests.
const FAKE_HASH = `scrypt$16384$8$1$${Buffer.alloc(16, 1).toString('base64')}$${Buffer.alloc(32, 2).toString('base64')}`;

/** A demo.json entry by its key, to edit (throws if the example no longer has it). */
function entry(list: Doc[] | undefined, key: 'uuid' | 'username', value: string): Doc {
  const found = list?.find((x) => x[key] === value);
  if (!found) throw new Error(`examples/demo.json has no ${key} ${value}`);
  return found;
}
const sub = (doc: Doc, username: string) => entry(doc.subscribers, 'username', username);
const cust = (doc: Doc, uuid: string) => entry(doc.customers, 'uuid', uuid);
const dealerOf = (doc: Doc, uuid: string) => entry(doc.dealers, 'uuid', uuid);

const DEMO_COUNTS = (() => {
  const d = demo();
  return {
    dealers: d.dealers.length as number,
    subscribers: d.subscribers.length as number,
    customers: d.customers.length as number,
    vehicles: (d.customers as Doc[]).reduce((n, c) => n + (c.vehicles?.length ?? 0), 0),
  };
})();

const byFirst = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));

const tally = (created: number, updated: number, unchanged: number) => ({ created, updated, unchanged });

/** The parts of a report this file is about (the report may count more entity kinds). */
const core = (r: ApplyReport) => ({
  changed: r.changed,
  revision: r.revision,
  dealers: r.dealers,
  subscribers: r.subscribers,
  customers: r.customers,
  vehicles: r.vehicles,
});

/** Every provisioning row, in a stable order: two equal snapshots mean nothing was written. */
async function snapshot(db: Kysely<Database>) {
  return {
    dealers: await db.selectFrom('dealers').selectAll().orderBy('uuid').execute(),
    subscribers: await db.selectFrom('subscribers').selectAll().orderBy('username').execute(),
    grants: await db.selectFrom('grants').selectAll().orderBy('username').orderBy('scope').orderBy('dealer_uuid').execute(),
    customers: await db.selectFrom('customers').selectAll().orderBy('uuid').execute(),
    vehicles: await db.selectFrom('vehicles').selectAll().orderBy('uuid').execute(),
    provisioning_state: await db.selectFrom('provisioning_state').selectAll().execute(),
  };
}

async function revisionOf(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('provisioning_state').select('revision').where('id', '=', 1).executeTakeFirstOrThrow();
  return row.revision;
}

async function grantsOf(db: Kysely<Database>, username: string): Promise<string[]> {
  const rows = await db.selectFrom('grants').select(['scope', 'dealer_uuid']).where('username', '=', username).execute();
  return rows.map((g) => `${g.scope} ${g.dealer_uuid}`).sort();
}

async function subscriber(db: Kysely<Database>, username: string) {
  return db.selectFrom('subscribers').selectAll().where('username', '=', username).executeTakeFirstOrThrow();
}

/** Asserts a report in which exactly `which` moved by one `kind`, everything else of demo.json unchanged. */
function assertOneChange(report: ApplyReport, which: 'dealers' | 'subscribers' | 'customers' | 'vehicles', kind: 'created' | 'updated') {
  const baseline = DEMO_COUNTS;
  assert.equal(report.changed, true);
  for (const table of ['dealers', 'subscribers', 'customers', 'vehicles'] as const) {
    const total = baseline[table] + (table === which && kind === 'created' ? 1 : 0);
    const moved = table === which ? 1 : 0;
    assert.deepEqual(
      report[table],
      kind === 'created' ? tally(moved, 0, total - moved) : tally(0, moved, total - moved),
      `${table} in ${JSON.stringify(report)}`,
    );
  }
}

for (const dialect of testDialects()) {
  describe(`provisioning: apply [${dialect}]`, () => {
    let tdb: TestDatabase;
    let db: Kysely<Database>;
    beforeEach(async () => {
      tdb = await createTestDatabase(dialect);
      db = tdb.db.kysely;
    });
    afterEach(async () => {
      await tdb?.destroy();
    });

    describe('a valid file', () => {
      test('examples/demo.json creates everything and reports the counts', async () => {
        assert.equal(await revisionOf(db), 0);
        const report = await applyProvisioning(db, demo());
        assert.deepEqual(core(report), {
          changed: true,
          revision: 1,
          dealers: tally(DEMO_COUNTS.dealers, 0, 0),
          subscribers: tally(DEMO_COUNTS.subscribers, 0, 0),
          customers: tally(DEMO_COUNTS.customers, 0, 0),
          vehicles: tally(DEMO_COUNTS.vehicles, 0, 0),
        });
        assert.equal(await revisionOf(db), 1);

        // Every entity of the file is stored as written.
        const file = demo();
        const rows = await snapshot(db);
        assert.deepEqual(
          rows.dealers.map((d) => [d.uuid, d.name]),
          file.dealers.map((d: Doc) => [d.uuid, d.name]).sort(byFirst),
        );
        assert.deepEqual(
          rows.subscribers.map((s) => [s.username, s.disabled]),
          file.subscribers.map((s: Doc) => [s.username, s.disabled ? 1 : 0]).sort(byFirst),
        );
        for (const s of file.subscribers as Doc[]) {
          const stored = await subscriber(db, s.username);
          assert.equal(await verifyPassword(s.password, stored.password_hash), true, `${s.username}'s password verifies`);
          assert.ok(!stored.password_hash.includes(s.password), 'the password itself is not stored');
          const expected = (s.grants as Doc[]).flatMap((g) =>
            (g.dealers === '*' ? [ANY_DEALER] : g.dealers).map((d: string) => `${g.scope} ${d}`),
          );
          assert.deepEqual(await grantsOf(db, s.username), expected.sort(), `${s.username}'s grants`);
        }
        assert.deepEqual(
          rows.customers.map((c) => [c.uuid, c.dealer_uuid, c.first_name, c.last_name, c.email, c.phone]),
          (file.customers as Doc[])
            .map((c) => [c.uuid, c.dealer, c.firstName ?? null, c.lastName ?? null, c.email ?? null, c.phone ?? null])
            .sort(byFirst),
        );
        assert.deepEqual(
          rows.vehicles.map((v) => [v.uuid, v.dealer_uuid, v.customer_uuid, v.vin, v.year, v.make, v.model]),
          (file.customers as Doc[])
            .flatMap((c) =>
              (c.vehicles ?? []).map((v: Doc) => [
                v.uuid,
                c.dealer,
                c.uuid,
                v.vin ?? null,
                v.year ?? null,
                v.make ?? null,
                v.model ?? null,
              ]),
            )
            .sort(byFirst),
        );
        // Spot checks against the file as documented in the README.
        assert.deepEqual(await grantsOf(db, 'acme-ai'), ['lead.write d-1', `spd.events.vehicleservicechat.write ${ANY_DEALER}`]);
        assert.deepEqual(await grantsOf(db, 'mmc-recall'), [`lead.write ${ANY_DEALER}`]);
        for (const row of [...rows.dealers, ...rows.subscribers, ...rows.customers, ...rows.vehicles]) {
          assert.equal(typeof row.created_at, 'number');
          assert.equal(row.updated_at, row.created_at);
        }
      });

      test('applying the same file again changes nothing: no revision bump, no updated_at touched', async () => {
        await applyProvisioning(db, demo());
        const before = await snapshot(db);
        const report = await applyProvisioning(db, demo());
        assert.deepEqual(core(report), {
          changed: false,
          revision: 1,
          dealers: tally(0, 0, DEMO_COUNTS.dealers),
          subscribers: tally(0, 0, DEMO_COUNTS.subscribers),
          customers: tally(0, 0, DEMO_COUNTS.customers),
          vehicles: tally(0, 0, DEMO_COUNTS.vehicles),
        });
        assert.deepEqual(await snapshot(db), before);
      });

      test('an empty document is valid and changes nothing', async () => {
        await applyProvisioning(db, demo());
        const before = await snapshot(db);
        const report = await applyProvisioning(db, {});
        assert.equal(report.changed, false);
        assert.equal(report.revision, 1);
        assert.deepEqual(await snapshot(db), before);
      });

      test('the order of grants and of their dealers does not matter', async () => {
        await applyProvisioning(db, demo());
        const before = await snapshot(db);
        const doc = demo();
        sub(doc, 'acme-ai').grants.reverse();
        const report = await applyProvisioning(db, doc);
        assert.equal(report.changed, false);
        assert.deepEqual(await snapshot(db), before);
      });
    });

    describe('changes are applied in place', () => {
      beforeEach(async () => {
        await applyProvisioning(db, demo());
      });

      test('a dealer name', async () => {
        const before = await snapshot(db);
        const d1Before = before.dealers.find((d) => d.uuid === 'd-1');
        const doc = demo();
        dealerOf(doc, 'd-1').name = 'Test Imports & Sons LLC';
        const report = await applyProvisioning(db, doc);
        assertOneChange(report, 'dealers', 'updated');
        assert.equal(report.revision, 2);
        assert.equal(await revisionOf(db), 2);
        const after = await db.selectFrom('dealers').selectAll().where('uuid', '=', 'd-1').executeTakeFirstOrThrow();
        assert.equal(after.name, 'Test Imports & Sons LLC');
        assert.equal(after.created_at, d1Before?.created_at);
        assert.ok(after.updated_at >= (d1Before?.updated_at ?? Number.POSITIVE_INFINITY));
        // Nothing else was touched.
        const rest = await snapshot(db);
        assert.deepEqual(
          rest.dealers.filter((d) => d.uuid !== 'd-1'),
          before.dealers.filter((d) => d.uuid !== 'd-1'),
        );
        assert.deepEqual(
          [rest.subscribers, rest.grants, rest.customers, rest.vehicles],
          [before.subscribers, before.grants, before.customers, before.vehicles],
        );
      });

      test('a customer field (and clearing one by leaving it out)', async () => {
        const doc = demo();
        cust(doc, 'c-1').email = 'jane@example.com';
        delete cust(doc, 'c-1').lastName;
        const report = await applyProvisioning(db, doc);
        assertOneChange(report, 'customers', 'updated');
        assert.equal(report.revision, 2);
        const c1 = await db.selectFrom('customers').selectAll().where('uuid', '=', 'c-1').executeTakeFirstOrThrow();
        assert.equal(c1.email, 'jane@example.com');
        assert.equal(c1.last_name, null);
        assert.equal(c1.first_name, 'Jane');
      });

      test('a vehicle field', async () => {
        const doc = demo();
        entry(cust(doc, 'c-2').vehicles, 'uuid', 'v-2').year = 2021;
        const report = await applyProvisioning(db, doc);
        assertOneChange(report, 'vehicles', 'updated');
        const v2 = await db.selectFrom('vehicles').selectAll().where('uuid', '=', 'v-2').executeTakeFirstOrThrow();
        assert.equal(v2.year, 2021);
      });

      test("a subscriber's grants (added, removed, narrowed from '*' to a list)", async () => {
        const before = await subscriber(db, 'mmc-recall');
        const doc = demo();
        sub(doc, 'mmc-recall').grants = [
          { scope: 'lead.write', dealers: ['d-1', 'd-2'] },
          { scope: 'lead.read', dealers: ['d-2'] },
        ];
        const report = await applyProvisioning(db, doc);
        assertOneChange(report, 'subscribers', 'updated');
        assert.equal(report.revision, 2);
        assert.deepEqual(await grantsOf(db, 'mmc-recall'), ['lead.read d-2', 'lead.write d-1', 'lead.write d-2']);
        assert.deepEqual(await grantsOf(db, 'acme-ai'), ['lead.write d-1', `spd.events.vehicleservicechat.write ${ANY_DEALER}`]);
        const after = await subscriber(db, 'mmc-recall');
        assert.equal(after.password_hash, before.password_hash, 'the password hash is kept');
        assert.equal(after.created_at, before.created_at);
        assert.ok(after.updated_at >= before.updated_at);

        // Removing every grant is a change too.
        sub(doc, 'mmc-recall').grants = [];
        const again = await applyProvisioning(db, doc);
        assertOneChange(again, 'subscribers', 'updated');
        assert.equal(again.revision, 3);
        assert.deepEqual(await grantsOf(db, 'mmc-recall'), []);
      });

      test('a password', async () => {
        const before = await subscriber(db, 'acme-ai');
        const doc = demo();
        sub(doc, 'acme-ai').password = 'a-brand-new-pass';
        const report = await applyProvisioning(db, doc);
        assertOneChange(report, 'subscribers', 'updated');
        assert.equal(report.revision, 2);
        const after = await subscriber(db, 'acme-ai');
        assert.notEqual(after.password_hash, before.password_hash);
        assert.equal(await verifyPassword('a-brand-new-pass', after.password_hash), true);
        assert.equal(await verifyPassword('s3cret-pass', after.password_hash), false);
        // Applying the new password again is not a change (the stored hash still matches).
        const again = await applyProvisioning(db, doc);
        assert.equal(again.changed, false);
        assert.equal((await subscriber(db, 'acme-ai')).password_hash, after.password_hash);
      });

      test('the disabled flag, both ways', async () => {
        const doc = demo();
        sub(doc, 'acme-ai').disabled = true;
        const report = await applyProvisioning(db, doc);
        assertOneChange(report, 'subscribers', 'updated');
        assert.equal(report.revision, 2);
        assert.equal((await subscriber(db, 'acme-ai')).disabled, 1);
        assert.deepEqual(await grantsOf(db, 'acme-ai'), ['lead.write d-1', `spd.events.vehicleservicechat.write ${ANY_DEALER}`]);

        sub(doc, 'acme-ai').disabled = false;
        const back = await applyProvisioning(db, doc);
        assertOneChange(back, 'subscribers', 'updated');
        assert.equal(back.revision, 3);
        assert.equal((await subscriber(db, 'acme-ai')).disabled, 0);
      });

      test('"disabled": false is the same as leaving it out', async () => {
        const doc = demo();
        sub(doc, 'acme-ai').disabled = false;
        const report = await applyProvisioning(db, doc);
        assert.equal(report.changed, false);
      });

      test('a new dealer is created beside the existing ones', async () => {
        const doc = demo();
        doc.dealers.push({ uuid: 'd-3', name: 'Third Motors' });
        const report = await applyProvisioning(db, doc);
        assertOneChange(report, 'dealers', 'created');
        assert.equal(report.revision, 2);
      });
    });

    describe('passwordHash', () => {
      test('is stored exactly as given, and verifies the password it was made from', async () => {
        const hash = await hashPassword('hashed-elsewhere-1');
        const doc = demo();
        delete sub(doc, 'acme-ai').password;
        sub(doc, 'acme-ai').passwordHash = hash;
        const report = await applyProvisioning(db, doc);
        assert.equal(report.subscribers.created, DEMO_COUNTS.subscribers);
        const stored = await subscriber(db, 'acme-ai');
        assert.equal(stored.password_hash, hash);
        assert.equal(await verifyPassword('hashed-elsewhere-1', stored.password_hash), true);

        assert.equal((await applyProvisioning(db, doc)).changed, false, 'the same hash again is no change');
      });

      test('replacing a password by a passwordHash updates the subscriber', async () => {
        await applyProvisioning(db, demo());
        const hash = await hashPassword('hashed-elsewhere-2');
        const doc = demo();
        delete sub(doc, 'acme-ai').password;
        sub(doc, 'acme-ai').passwordHash = hash;
        const report = await applyProvisioning(db, doc);
        assertOneChange(report, 'subscribers', 'updated');
        assert.equal((await subscriber(db, 'acme-ai')).password_hash, hash);
      });

      test('switching from a passwordHash to the same password in clear changes nothing', async () => {
        const hash = await hashPassword('s3cret-pass');
        const doc = demo();
        delete sub(doc, 'acme-ai').password;
        sub(doc, 'acme-ai').passwordHash = hash;
        await applyProvisioning(db, doc);
        const report = await applyProvisioning(db, demo());
        assert.equal(report.changed, false);
        assert.equal((await subscriber(db, 'acme-ai')).password_hash, hash);
      });
    });

    test("a grant of '*' is stored as a MultiDealer grant", async () => {
      await applyProvisioning(db, demo());
      const rows = await db.selectFrom('grants').selectAll().where('username', '=', 'mmc-recall').execute();
      assert.deepEqual(rows, [{ username: 'mmc-recall', scope: 'lead.write', dealer_uuid: ANY_DEALER }]);
    });

    test('entities absent from the file are left alone', async () => {
      await applyProvisioning(db, demo());
      const before = await snapshot(db);
      const report = await applyProvisioning(db, {
        dealers: [{ uuid: 'd-3', name: 'Third Motors' }],
        subscribers: [{ username: 'newcomer', password: 'newcomer-pass', grants: [{ scope: 'lead.write', dealers: ['d-3', 'd-1'] }] }],
        customers: [{ dealer: 'd-1', uuid: 'c-9', vehicles: [{ uuid: 'v-9' }] }],
      });
      assert.deepEqual(core(report), {
        changed: true,
        revision: 2,
        dealers: tally(1, 0, 0),
        subscribers: tally(1, 0, 0),
        customers: tally(1, 0, 0),
        vehicles: tally(1, 0, 0),
      });
      const after = await snapshot(db);
      assert.deepEqual(
        after.dealers.filter((d) => d.uuid !== 'd-3'),
        before.dealers,
      );
      assert.deepEqual(
        after.subscribers.filter((s) => s.username !== 'newcomer'),
        before.subscribers,
      );
      assert.deepEqual(
        after.grants.filter((g) => g.username !== 'newcomer'),
        before.grants,
      );
      assert.deepEqual(
        after.customers.filter((c) => c.uuid !== 'c-9'),
        before.customers,
      );
      assert.deepEqual(
        after.vehicles.filter((v) => v.uuid !== 'v-9'),
        before.vehicles,
      );
    });

    test('a customer listed without vehicles keeps its vehicles', async () => {
      await applyProvisioning(db, demo());
      const doc = demo();
      delete cust(doc, 'c-1').vehicles;
      const report = await applyProvisioning(db, doc);
      assert.equal(report.changed, false);
      assert.ok(await db.selectFrom('vehicles').select('uuid').where('uuid', '=', 'v-1').executeTakeFirst());
    });

    describe('a bad file is rejected whole, naming each offending path, and nothing is written', () => {
      // Each case starts from demo.json already applied, then applies a document whose earlier
      // entries are valid and new (a dealer, a subscriber, a customer): none of them may appear.
      const validPrefix = (): Doc => ({
        dealers: [
          { uuid: 'd-new-1', name: 'New Dealer One' },
          { uuid: 'd-1', name: 'Renamed by a rejected file' },
        ],
        subscribers: [{ username: 'new-sub', password: 'new-sub-pass', grants: [{ scope: 'lead.write', dealers: ['d-new-1'] }] }],
        customers: [{ dealer: 'd-new-1', uuid: 'c-new-1', firstName: 'New', vehicles: [{ uuid: 'v-new-1' }] }],
      });

      const cases: { name: string; path: string; message?: RegExp; edit: (doc: Doc) => void }[] = [
        {
          name: 'an unknown top-level key',
          path: 'dealer',
          message: /not a known key/,
          edit: (doc) => {
            doc.dealer = [{ uuid: 'd-typo', name: 'Typo' }];
          },
        },
        {
          name: 'an unknown key in an entry',
          path: 'subscribers[1].pasword',
          message: /not a known key/,
          edit: (doc) => {
            doc.subscribers.push({ username: 'typo', password: 'typo-pass-1', pasword: 'x', grants: [] });
          },
        },
        {
          name: 'a dealer without a name (after valid dealers)',
          path: 'dealers[2].name',
          message: /required/,
          edit: (doc) => {
            doc.dealers.push({ uuid: 'd-new-2' });
          },
        },
        {
          name: 'an unknown scope',
          path: 'subscribers[0].grants[1].scope',
          message: /lead\.write/,
          edit: (doc) => {
            doc.subscribers[0].grants.push({ scope: 'lead.delete', dealers: ['d-1'] });
          },
        },
        {
          name: 'a grant to an unknown dealer',
          path: 'subscribers[0].grants[0].dealers[1]',
          message: /unknown dealer "d-nowhere"/,
          edit: (doc) => {
            doc.subscribers[0].grants[0].dealers.push('d-nowhere');
          },
        },
        {
          name: 'a grant with an empty dealer list',
          path: 'subscribers[0].grants[0].dealers',
          edit: (doc) => {
            doc.subscribers[0].grants[0].dealers = [];
          },
        },
        {
          name: 'a customer of an unknown dealer',
          path: 'customers[1].dealer',
          message: /unknown dealer "d-nowhere"/,
          edit: (doc) => {
            doc.customers.push({ dealer: 'd-nowhere', uuid: 'c-new-2' });
          },
        },
        {
          name: 'a duplicate dealer uuid',
          path: 'dealers[2].uuid',
          message: /duplicate/,
          edit: (doc) => {
            doc.dealers.push({ uuid: 'd-new-1', name: 'Twice' });
          },
        },
        {
          name: 'a duplicate subscriber',
          path: 'subscribers[1].username',
          message: /duplicate/,
          edit: (doc) => {
            doc.subscribers.push({ ...doc.subscribers[0] });
          },
        },
        {
          name: 'a duplicate vehicle across customers',
          path: 'customers[1].vehicles[0].uuid',
          message: /duplicate/,
          edit: (doc) => {
            doc.customers.push({ dealer: 'd-new-1', uuid: 'c-new-2', vehicles: [{ uuid: 'v-new-1' }] });
          },
        },
        {
          name: 'both password and passwordHash',
          path: 'subscribers[1]',
          message: /exactly one/,
          edit: (doc) => {
            doc.subscribers.push({ username: 'both', password: 'both-pass-1', passwordHash: FAKE_HASH, grants: [] });
          },
        },
        {
          name: 'neither password nor passwordHash',
          path: 'subscribers[1]',
          message: /exactly one/,
          edit: (doc) => {
            doc.subscribers.push({ username: 'neither', grants: [] });
          },
        },
        {
          name: 'a passwordHash that is not a scrypt hash',
          path: 'subscribers[1].passwordHash',
          message: /scrypt/,
          edit: (doc) => {
            doc.subscribers.push({ username: 'badhash', passwordHash: '$2b$10$abcdefghijklmnopqrstuv', grants: [] });
          },
        },
        {
          name: 'a password shorter than 8 characters',
          path: 'subscribers[1].password',
          edit: (doc) => {
            doc.subscribers.push({ username: 'shorty', password: 'short', grants: [] });
          },
        },
        {
          name: 'a username with a colon',
          path: 'subscribers[1].username',
          edit: (doc) => {
            doc.subscribers.push({ username: 'a:b', password: 'colon-user-pass', grants: [] });
          },
        },
        {
          name: 'a VIN of the wrong length',
          path: 'customers[0].vehicles[1].vin',
          edit: (doc) => {
            doc.customers[0].vehicles.push({ uuid: 'v-new-2', vin: '1HGCM82633A00435' });
          },
        },
        {
          name: 'a VIN with letters a VIN never has (I, O, Q)',
          path: 'customers[0].vehicles[1].vin',
          edit: (doc) => {
            doc.customers[0].vehicles.push({ uuid: 'v-new-2', vin: '1HGCM82633A00435O' });
          },
        },
        {
          name: 'a customer moving to another dealer',
          path: 'customers[1].dealer',
          message: /already belongs to dealer "d-1"/,
          edit: (doc) => {
            doc.customers.push({ dealer: 'd-2', uuid: 'c-1', firstName: 'Jane' });
          },
        },
        {
          name: 'a vehicle moving to another dealer',
          path: 'customers[0].vehicles[1].uuid',
          message: /already belongs to dealer "d-1"/,
          edit: (doc) => {
            doc.customers[0].vehicles.push({ uuid: 'v-1' });
          },
        },
      ];

      for (const c of cases) {
        test(`${c.name} → ${c.path}`, async () => {
          await applyProvisioning(db, demo());
          const before = await snapshot(db);
          const doc = validPrefix();
          c.edit(doc);
          await assert.rejects(applyProvisioning(db, doc), (err: unknown) => {
            assert.ok(err instanceof ProvisioningError, `expected a ProvisioningError, got ${String(err)}`);
            const problem = err.problems.find((p) => p.path === c.path);
            assert.ok(problem, `no problem at ${c.path} in ${JSON.stringify(err.problems)}`);
            if (c.message) assert.match(problem.message, c.message);
            assert.ok(err.message.includes(c.path), 'the error message names the path');
            return true;
          });
          assert.deepEqual(await snapshot(db), before);
        });
      }

      test('every problem is reported at once', async () => {
        const doc = validPrefix();
        doc.dealers.push({ uuid: 'd-new-1', name: 'Twice' });
        doc.customers.push({ dealer: 'd-nowhere', uuid: 'c-new-2' });
        doc.subscribers.push({ username: 'neither', grants: [] });
        await assert.rejects(applyProvisioning(db, doc), (err: unknown) => {
          assert.ok(err instanceof ProvisioningError);
          const paths = err.problems.map((p) => p.path).sort();
          assert.deepEqual(paths, ['customers[1].dealer', 'dealers[2].uuid', 'subscribers[1]']);
          return true;
        });
        assert.equal(await revisionOf(db), 0);
      });

      test('a document that is not an object is rejected', async () => {
        for (const doc of [null, [], 'dealers', 42]) {
          await assert.rejects(applyProvisioning(db, doc), ProvisioningError, JSON.stringify(doc));
        }
        assert.deepEqual((await snapshot(db)).dealers, []);
      });

      test('a first apply that fails leaves an empty database empty', async () => {
        const doc = demo();
        entry(cust(doc, 'c-2').vehicles, 'uuid', 'v-2').vin = 'TOO-SHORT';
        await assert.rejects(applyProvisioning(db, doc), ProvisioningError);
        const rows = await snapshot(db);
        assert.deepEqual([rows.dealers, rows.subscribers, rows.grants, rows.customers, rows.vehicles], [[], [], [], [], []]);
        assert.equal(await revisionOf(db), 0);
      });
    });
  });
}
