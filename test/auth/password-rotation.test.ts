// Password rotation without cutting a partner off (docs/api.md, "Rotating a password"): after a
// change the old password keeps working for passwordOverlapHours (default 24), then answers 401;
// 0 cuts it at once. The clock is injected, so the window is crossed without sleeping.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { basic } from '../helpers/suite.js';

const ADMIN_TOKEN = 'rotation-admin-token-0123456789abcdef';
const OLD = 'old-password-1';
const NEW = 'new-password-2';
const HOUR = 3_600_000;
const URL = '/leads/v2/dealer/d-1/lead/00000000-0000-4000-8000-000000000000';
// A signed-in partner reading a lead that does not exist: 404, past authentication.
const SIGNED_IN = 404;

const fixture = (username: string, password: string, overlap?: number) => ({
  dealers: [{ uuid: 'd-1', name: 'Test Imports LLC' }],
  subscribers: [
    {
      username,
      password,
      ...(overlap === undefined ? {} : { passwordOverlapHours: overlap }),
      grants: [{ scope: 'lead.read', dealers: ['d-1'] }],
    },
  ],
});

for (const dialect of testDialects()) {
  describe(`password rotation [${dialect}]`, () => {
    let tdb: TestDatabase;
    let app: FastifyInstance;
    let offset = 0;
    const clock = () => Date.now() + offset;

    before(async () => {
      tdb = await createTestDatabase(dialect, { ADMIN_TOKEN });
      app = await buildApp(tdb.config, { db: tdb.db, logger: false, clock });
    });
    after(async () => {
      await app?.close();
      await tdb?.destroy();
    });

    const apply = async (doc: unknown) => {
      await applyProvisioning(tdb.db.kysely, doc);
      await app.directory.refresh();
    };
    const status = async (username: string, password: string, address = '10.9.0.1') =>
      (await app.inject({ method: 'GET', url: URL, headers: { authorization: basic(username, password) }, remoteAddress: address }))
        .statusCode;

    test('apply: both passwords work during the default 24 h overlap, the old one answers 401 after it', async () => {
      offset = 0;
      await apply(fixture('rot-default', OLD));
      assert.equal(await status('rot-default', OLD), SIGNED_IN);
      await apply(fixture('rot-default', NEW));
      assert.equal(await status('rot-default', NEW), SIGNED_IN);
      assert.equal(await status('rot-default', OLD), SIGNED_IN, 'the old password still works during the overlap');
      offset = 23 * HOUR;
      assert.equal(await status('rot-default', OLD), SIGNED_IN);
      assert.equal(await status('rot-default', NEW), SIGNED_IN);
      offset = 24 * HOUR + 60_000;
      // The old credential was verified (and cached) before: the cache must not keep it valid.
      assert.equal(await status('rot-default', OLD), 401);
      assert.equal(await status('rot-default', NEW), SIGNED_IN);
      // A fresh check of the old password (other address, nothing cached) is refused too.
      assert.equal(await status('rot-default', OLD, '10.9.0.2'), 401);
    });

    test('apply: passwordOverlapHours sets the window; re-applying the same file does not restart it', async () => {
      offset = 0;
      await apply(fixture('rot-two', OLD));
      await apply(fixture('rot-two', NEW, 2));
      await apply(fixture('rot-two', NEW, 2));
      offset = HOUR;
      assert.equal(await status('rot-two', OLD), SIGNED_IN);
      offset = 2 * HOUR + 1;
      assert.equal(await status('rot-two', OLD), 401);
      assert.equal(await status('rot-two', NEW), SIGNED_IN);
    });

    test('apply: overlap 0 cuts the old password at once, even one verified a moment before', async () => {
      offset = 0;
      await apply(fixture('rot-zero', OLD));
      assert.equal(await status('rot-zero', OLD), SIGNED_IN);
      await apply(fixture('rot-zero', NEW, 0));
      assert.equal(await status('rot-zero', OLD), 401);
      assert.equal(await status('rot-zero', NEW), SIGNED_IN);
      const row = await tdb.db.kysely.selectFrom('subscribers').selectAll().where('username', '=', 'rot-zero').executeTakeFirstOrThrow();
      assert.equal(row.previous_password_hash, null);
      assert.equal(row.previous_valid_until, null);
    });

    test('admin API: POST /subscribers/:username/password takes passwordOverlapHours', async () => {
      offset = 0;
      await apply(fixture('rot-admin', OLD));
      const rotate = (password: string, passwordOverlapHours?: number) =>
        app.inject({
          method: 'POST',
          url: '/admin/v1/subscribers/rot-admin/password',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          payload: { password, ...(passwordOverlapHours === undefined ? {} : { passwordOverlapHours }) },
        });
      const res = await rotate(NEW, 1);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(JSON.stringify(res.json()).includes('scrypt'), false);
      await app.directory.refresh();
      assert.equal(await status('rot-admin', OLD), SIGNED_IN);
      assert.equal(await status('rot-admin', NEW), SIGNED_IN);
      offset = HOUR + 1;
      assert.equal(await status('rot-admin', OLD), 401);
      assert.equal(await status('rot-admin', NEW), SIGNED_IN);

      // Default overlap through the API, then 0.
      offset = 0;
      assert.equal((await rotate('third-password-3')).statusCode, 200);
      await app.directory.refresh();
      assert.equal(await status('rot-admin', NEW), SIGNED_IN);
      assert.equal((await rotate('fourth-password-4', 0)).statusCode, 200);
      await app.directory.refresh();
      assert.equal(await status('rot-admin', 'third-password-3'), 401);
      assert.equal(await status('rot-admin', 'fourth-password-4'), SIGNED_IN);
      // Out of range: refused.
      assert.equal((await rotate('fifth-password-5', 721)).statusCode, 400);
      assert.equal((await rotate('fifth-password-5', -1)).statusCode, 400);
    });

    test('audit entries never contain a password or a hash, current or previous', async () => {
      const rows = await tdb.db.kysely.selectFrom('audit_log').selectAll().where('entity', '=', 'subscriber').execute();
      assert.ok(rows.length >= 8);
      const hashes = (await tdb.db.kysely.selectFrom('subscribers').select(['password_hash', 'previous_password_hash']).execute()).flatMap(
        (r) => [r.password_hash, r.previous_password_hash].filter((h): h is string => h !== null),
      );
      const text = JSON.stringify(rows);
      for (const secret of [OLD, NEW, 'third-password-3', 'fourth-password-4', ...hashes])
        assert.equal(text.includes(secret), false, secret);
      assert.equal(/scrypt\$/.test(text), false);
      assert.equal(text.includes('previous_password_hash'), false);
      const rotation = rows.find((r) => r.entity_key === 'rot-two' && r.action === 'update' && r.after?.includes('"passwordChanged":true'));
      assert.ok(rotation, 'the rotation is audited');
      assert.match(String(rotation.after), /"previousPasswordValidUntil":"\d{4}-/);
    });
  });
}
