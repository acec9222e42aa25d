// `apply` writes one audit entry per created or updated row, in its transaction: entity, key,
// action, before and after — never a password or a password hash — and nothing for a no-op.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { type AuditRecord, listAudit } from '../../src/audit/audit.repository.js';
import { hashPassword } from '../../src/auth/password.js';
import type { Database } from '../../src/db/schema.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { ProvisioningError } from '../../src/provisioning/provisioning.validate.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';

const PASSWORD = 'first-password-1';
// biome-ignore lint/suspicious/noExplicitAny: documents are edited freely between applies
type Doc = Record<string, any>;

const doc = (): Doc => ({
  dealers: [
    { uuid: 'd-1', name: 'Test Imports LLC' },
    { uuid: 'd-2', name: 'Harbor Motors' },
  ],
  subscribers: [
    {
      username: 'acme',
      password: PASSWORD,
      grants: [
        { scope: 'lead.write', dealers: ['d-1'] },
        { scope: 'spd.events.vehicleservicechat.write', dealers: '*' },
      ],
    },
  ],
  customers: [
    {
      dealer: 'd-1',
      uuid: 'c-1',
      firstName: 'Jane',
      email: 'jane@example.com',
      vehicles: [{ uuid: 'v-1', vin: '1HGCM82633A004352', year: 2019 }],
    },
  ],
  integrations: [
    { subscriber: 'acme', eventType: 'vehicle-service-chat', dealerMap: { 'ACME-77': 'd-1' }, schema: { type: 'object' }, transform: '$' },
  ],
});

/** Oldest first, for readable assertions. */
async function entries(db: Kysely<Database>): Promise<AuditRecord[]> {
  return (await listAudit(db, { limit: 1000 })).reverse();
}

/** No password and no hash, anywhere in the audit log's JSON. */
async function assertNoSecrets(db: Kysely<Database>, ...secrets: string[]): Promise<void> {
  const rows = await db.selectFrom('audit_log').select(['before', 'after']).execute();
  const text = rows.map((r) => `${r.before ?? ''}${r.after ?? ''}`).join('\n');
  assert.doesNotMatch(text, /password_hash|passwordHash|scrypt\$/);
  for (const secret of secrets) assert.ok(!text.includes(secret), 'a secret appears in the audit log');
}

for (const dialect of testDialects()) {
  describe(`provisioning: apply writes the audit log [${dialect}]`, () => {
    let tdb: TestDatabase;
    let db: Kysely<Database>;
    beforeEach(async () => {
      tdb = await createTestDatabase(dialect);
      db = tdb.db.kysely;
    });
    afterEach(async () => {
      await tdb?.destroy();
    });

    test('a first apply records one create per row, actor "apply", before null', async () => {
      await applyProvisioning(db, doc());
      const log = await entries(db);
      assert.deepEqual(
        log.map((e) => [e.actor, e.action, e.entity, e.key]),
        [
          ['apply', 'create', 'dealer', 'd-1'],
          ['apply', 'create', 'dealer', 'd-2'],
          ['apply', 'create', 'subscriber', 'acme'],
          ['apply', 'create', 'customer', 'c-1'],
          ['apply', 'create', 'vehicle', 'v-1'],
          ['apply', 'create', 'integration', 'acme/vehicle-service-chat'],
        ],
      );
      for (const e of log) assert.equal(e.before, null);
      const byKey = new Map(log.map((e) => [e.key, e.after as Record<string, unknown>]));
      assert.deepEqual(byKey.get('d-1'), { uuid: 'd-1', name: 'Test Imports LLC' });
      assert.deepEqual(byKey.get('acme'), {
        username: 'acme',
        disabled: false,
        passwordChanged: true,
        grants: { 'lead.write': ['d-1'], 'spd.events.vehicleservicechat.write': ['*'] },
      });
      assert.deepEqual(byKey.get('c-1'), {
        uuid: 'c-1',
        dealer_uuid: 'd-1',
        first_name: 'Jane',
        last_name: null,
        email: 'jane@example.com',
        phone: null,
      });
      assert.deepEqual(byKey.get('v-1'), {
        uuid: 'v-1',
        dealer_uuid: 'd-1',
        customer_uuid: 'c-1',
        vin: '1HGCM82633A004352',
        year: 2019,
        make: null,
        model: null,
      });
      assert.deepEqual(byKey.get('acme/vehicle-service-chat'), {
        username: 'acme',
        event_type: 'vehicle-service-chat',
        active: true,
        dealer_id_field: 'dealer_uuid',
        dealer_map: { 'ACME-77': 'd-1' },
        json_schema: { type: 'object' },
        transform: '$',
      });
      // One time for the whole apply: the transaction's.
      assert.equal(new Set(log.map((e) => e.at)).size, 1);
      await assertNoSecrets(db, PASSWORD);
    });

    test('re-applying the same file writes nothing', async () => {
      await applyProvisioning(db, doc());
      const before = (await entries(db)).length;
      const report = await applyProvisioning(db, doc());
      assert.equal(report.changed, false);
      assert.equal((await entries(db)).length, before);
    });

    test('an update records the row before and after; unchanged rows record nothing', async () => {
      await applyProvisioning(db, doc());
      const first = (await entries(db)).length;
      const changed = doc();
      changed.dealers[1] = { uuid: 'd-2', name: 'Harbor Motors West' };
      changed.customers[0].email = 'jane.doe@example.com';
      await applyProvisioning(db, changed, { actor: 'someone' });
      const added = (await entries(db)).slice(first);
      assert.deepEqual(
        added.map((e) => [e.actor, e.action, e.entity, e.key]),
        [
          ['someone', 'update', 'dealer', 'd-2'],
          ['someone', 'update', 'customer', 'c-1'],
        ],
      );
      assert.deepEqual(added[0]?.before, { uuid: 'd-2', name: 'Harbor Motors' });
      assert.deepEqual(added[0]?.after, { uuid: 'd-2', name: 'Harbor Motors West' });
      assert.equal((added[1]?.before as Doc | undefined)?.email, 'jane@example.com');
      assert.equal((added[1]?.after as Doc | undefined)?.email, 'jane.doe@example.com');
    });

    test('a subscriber entry carries its grants before and after, and only whether the password changed', async () => {
      await applyProvisioning(db, doc());
      const first = (await entries(db)).length;

      // Grants only: the subscriber row itself is unchanged, yet it is an update of the subscriber.
      const regranted = doc();
      const newGrants = [{ scope: 'lead.read', dealers: ['d-1', 'd-2'] }];
      regranted.subscribers[0].grants = newGrants;
      await applyProvisioning(db, regranted);
      let added = (await entries(db)).slice(first);
      assert.equal(added.length, 1);
      assert.equal(added[0]?.entity, 'subscriber');
      assert.equal(added[0]?.action, 'update');
      assert.deepEqual(added[0]?.before, {
        username: 'acme',
        disabled: false,
        grants: { 'lead.write': ['d-1'], 'spd.events.vehicleservicechat.write': ['*'] },
      });
      assert.deepEqual(added[0]?.after, {
        username: 'acme',
        disabled: false,
        passwordChanged: false,
        grants: { 'lead.read': ['d-1', 'd-2'] },
      });

      // A new password, given as a password and then as a hash: recorded as a change, never shown.
      const rotated = doc();
      const NEW_PASSWORD = 'second-password-2';
      rotated.subscribers[0] = { ...rotated.subscribers[0], password: NEW_PASSWORD, grants: newGrants };
      await applyProvisioning(db, rotated);
      const hash = await hashPassword('third-password-3');
      const hashed = doc();
      hashed.subscribers[0] = { username: 'acme', passwordHash: hash, disabled: true, grants: newGrants };
      await applyProvisioning(db, hashed);
      added = (await entries(db)).slice(first + 1);
      assert.deepEqual(
        added.map((e) => [(e.after as Doc).passwordChanged, (e.after as Doc).disabled]),
        [
          [true, false],
          [true, true],
        ],
      );
      await assertNoSecrets(db, PASSWORD, NEW_PASSWORD, 'third-password-3', hash);
    });

    test('a rejected file writes no audit entry', async () => {
      const bad = doc();
      bad.customers[0].dealer = 'd-9';
      await assert.rejects(applyProvisioning(db, bad), ProvisioningError);
      assert.deepEqual(await entries(db), []);
    });
  });
}
