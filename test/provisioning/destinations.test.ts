// Destinations in the provisioning file (`apply`), on both databases: created with the file's
// secret or a generated one (reported once), unchanged on a second apply, updated in place with
// their secret kept, a changed secret rotated with its overlap, and refused with the same checks
// as the admin API (SSRF, secrets, duplicates).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { generateSecret } from '../../src/delivery/signature.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { ProvisioningError } from '../../src/provisioning/provisioning.validate.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';

const SECRET = generateSecret();
const crm = { name: 'crm', url: 'https://crm.example.com/hooks', eventTypes: ['lead.created', 'lead.updated'], secret: SECRET };
const dms = { name: 'dms', url: 'https://dms.example.com/in', eventTypes: ['chat_summary.processed'], ordering: 'per-dealer' };

for (const dialect of testDialects()) {
  describe(`apply: destinations [${dialect}]`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase(dialect);
    });
    after(() => tdb?.destroy());
    const row = (name: string) => tdb.db.kysely.selectFrom('destinations').selectAll().where('name', '=', name).executeTakeFirstOrThrow();

    test('created with the given or a generated secret, then unchanged, then updated with the secret kept', async () => {
      const db = tdb.db.kysely;
      const first = await applyProvisioning(db, { destinations: [crm, dms] });
      assert.deepEqual(first.destinations, { created: 2, updated: 0, unchanged: 0 });
      assert.deepEqual(Object.keys(first.generatedSecrets), ['dms'], 'only the one without a secret gets one, shown once');
      assert.equal((await row('crm')).secret, SECRET);
      assert.equal((await row('dms')).secret, first.generatedSecrets.dms);
      assert.equal((await row('dms')).ordering, 'per-dealer');

      const again = await applyProvisioning(db, { destinations: [crm, dms] });
      assert.equal(again.changed, false);
      assert.deepEqual(again.destinations, { created: 0, updated: 0, unchanged: 2 });
      assert.deepEqual(again.generatedSecrets, {});
      assert.equal((await row('dms')).secret, first.generatedSecrets.dms, 'an omitted secret is kept');

      const moved = await applyProvisioning(db, { destinations: [{ ...dms, url: 'https://dms.example.com/v2' }] });
      assert.deepEqual(moved.destinations, { created: 0, updated: 1, unchanged: 0 });
      assert.equal((await row('dms')).url, 'https://dms.example.com/v2');
      assert.equal((await row('dms')).secret, first.generatedSecrets.dms);

      const audit = await db.selectFrom('audit_log').selectAll().where('entity', '=', 'destination').execute();
      assert.deepEqual(audit.map((a) => `${a.action} ${a.entity_key}`).sort(), ['create crm', 'create dms', 'update dms']);
      assert.ok(!JSON.stringify(audit).includes(SECRET) && !JSON.stringify(audit).includes(first.generatedSecrets.dms as string));
    });

    test('a CRM inbox: an email destination of ADF documents, then its recipients changed; ADF refuses chat types', async () => {
      const db = tdb.db.kysely;
      const inbox = { name: 'crm-inbox', kind: 'email', to: ['leads@crm.example.com'], eventTypes: ['lead.created', 'lead.updated'] };
      const first = await applyProvisioning(db, { destinations: [inbox] });
      assert.equal(first.destinations.created, 1);
      const created = await row('crm-inbox');
      assert.deepEqual(
        { kind: created.kind, url: created.url, format: created.format, to: created.email_to },
        { kind: 'email', url: null, format: 'adf-xml', to: '["leads@crm.example.com"]' },
      );
      assert.equal((await applyProvisioning(db, { destinations: [inbox] })).destinations.unchanged, 1);
      const moved = await applyProvisioning(db, { destinations: [{ ...inbox, to: ['adf@crm.example.com', 'backup@dealer.example.com'] }] });
      assert.equal(moved.destinations.updated, 1);
      assert.equal((await row('crm-inbox')).email_to, '["adf@crm.example.com","backup@dealer.example.com"]');
      await assert.rejects(
        applyProvisioning(db, {
          destinations: [{ ...crm, name: 'crm-adf', format: 'adf-xml', eventTypes: ['lead.created', 'chat_summary.processed'] }],
        }),
        (err: unknown) => err instanceof ProvisioningError && /adf-xml carries leads only/.test(err.message),
      );
    });

    test('a new secret in the file rotates: the old one keeps signing for the overlap', async () => {
      const fresh = generateSecret();
      const startedAt = Date.now();
      const report = await applyProvisioning(tdb.db.kysely, { destinations: [{ ...crm, secret: fresh }] }, { secretOverlapHours: 2 });
      assert.deepEqual(report.destinations, { created: 0, updated: 1, unchanged: 0 });
      const stored = await row('crm');
      assert.equal(stored.secret, fresh);
      assert.equal(stored.previous_secret, SECRET);
      assert.ok(
        Number(stored.previous_secret_until) >= startedAt + 2 * 3_600_000 &&
          Number(stored.previous_secret_until) <= Date.now() + 2 * 3_600_000,
      );
    });

    test('refused like the admin API refuses: private addresses, bad secrets, duplicate names; allowed networks let a private one in', async () => {
      const db = tdb.db.kysely;
      const refused = async (destinations: unknown[], pattern: RegExp) => {
        const error = await applyProvisioning(db, { destinations }).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(error instanceof ProvisioningError, String(error));
        assert.match(error.message, pattern);
      };
      await refused([{ ...dms, name: 'x', url: 'http://127.0.0.1:9000/' }], /destinations\[0\].*127\.0\.0\.1 is a loopback address/);
      await refused([{ ...dms, name: 'x', url: 'http://[::ffff:10.0.0.1]/' }], /destinations\[0\]/);
      await refused([{ ...dms, name: 'x', secret: 'whsec_short' }], /destinations\[0\].*secret/);
      await refused([dms, { ...dms }], /destinations\[1\]\.name/);
      await refused([{ ...dms, name: 'x', eventTypes: ['lead.deleted'] }], /destinations\[0\]\.eventTypes/);

      const local = { ...dms, name: 'on-prem', url: 'http://10.20.30.40:8080/hooks' };
      await refused([local], /10\.20\.30\.40 is a private address/);
      const allowed = await applyProvisioning(db, { destinations: [local] }, { allowPrivateNetworks: ['10.20.0.0/16'] });
      assert.equal(allowed.destinations.created, 1);
    });

    test('a pull destination: its feed token generated once and stored as a digest; a url refused; made a webhook it loses it', async () => {
      const db = tdb.db.kysely;
      const feed = { name: 'feed', kind: 'pull', eventTypes: ['lead.created'] };
      const first = await applyProvisioning(db, { destinations: [feed] });
      assert.equal(first.destinations.created, 1);
      const token = first.generatedFeedTokens.feed as string;
      assert.match(token, /^dgf_[A-Za-z0-9_-]{43}$/);
      assert.equal((await row('feed')).feed_token_sha256, createHash('sha256').update(token).digest('hex'));
      assert.equal((await row('feed')).url, null);
      const again = await applyProvisioning(db, { destinations: [feed] });
      assert.deepEqual(again.destinations, { created: 0, updated: 0, unchanged: 1 });
      assert.deepEqual(again.generatedFeedTokens, {});
      const refused = await applyProvisioning(db, { destinations: [{ ...feed, url: 'https://crm.example.com/x' }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(refused instanceof ProvisioningError && /destinations\[0\].*url/.test(refused.message), String(refused));
      const missing = await applyProvisioning(db, { destinations: [{ name: 'hook', eventTypes: ['lead.created'] }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(missing instanceof ProvisioningError && /url: required/.test(missing.message), String(missing));
      await applyProvisioning(db, { destinations: [{ ...feed, kind: 'webhook', url: 'https://crm.example.com/x' }] });
      assert.equal((await row('feed')).feed_token_sha256, null);
      const back = await applyProvisioning(db, { destinations: [feed] });
      assert.match(String(back.generatedFeedTokens.feed), /^dgf_/);
    });
  });
}
