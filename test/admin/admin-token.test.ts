// The admin credential: ADMIN_TOKEN when set; otherwise generated once, stored only as a hash,
// and the same on every later start (both databases).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearerToken } from '../../src/admin/admin.plugin.js';
import { ensureAdminCredential, isAdminToken, rotateAdminToken } from '../../src/admin/admin-token.js';
import { ConfigError, loadConfig } from '../../src/core/config.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';

for (const dialect of testDialects()) {
  describe(`admin token [${dialect}]`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase(dialect);
    });
    after(() => tdb?.destroy());

    test('generated on first start, stored only as its hash, kept on the next start', async () => {
      const db = tdb.db.kysely;
      const first = await ensureAdminCredential(db, null);
      assert.equal(first.credential.source, 'generated');
      const token = first.generated as string;
      assert.match(token, /^dgw_[A-Za-z0-9_-]{43}$/);
      const stored = await db.selectFrom('admin_settings').selectAll().execute();
      assert.equal(stored.length, 1);
      assert.ok(!JSON.stringify(stored).includes(token), 'the token itself is not stored');

      const second = await ensureAdminCredential(db, null);
      assert.equal(second.credential.source, 'stored');
      assert.equal(second.generated, undefined, 'shown once only');
      assert.ok(isAdminToken(second.credential, token));
      assert.ok(!isAdminToken(second.credential, `${token}x`));

      const rotated = await rotateAdminToken(db);
      const audit = await db.selectFrom('audit_log').selectAll().where('entity', '=', 'admin-token').execute();
      assert.deepEqual(
        audit.map((a) => [a.actor, a.action, a.before, a.after]),
        [['cli', 'rotate', null, null]],
        'the rotation is audited, without the token',
      );
      const third = await ensureAdminCredential(db, null);
      assert.ok(isAdminToken(third.credential, rotated));
      assert.ok(!isAdminToken(third.credential, token), 'the old token stops working');
    });

    test('ADMIN_TOKEN wins over a stored one', async () => {
      const fromEnv = await ensureAdminCredential(tdb.db.kysely, 'an-operator-chosen-token-of-length');
      assert.equal(fromEnv.credential.source, 'env');
      assert.ok(isAdminToken(fromEnv.credential, 'an-operator-chosen-token-of-length'));
    });
  });
}

test('a short ADMIN_TOKEN is refused at start', () => {
  assert.throws(() => loadConfig({ ADMIN_TOKEN: 'short' }), ConfigError);
  assert.equal(loadConfig({ ADMIN_TOKEN: '  ' }).adminToken, null);
});

test('Bearer parsing: missing, malformed and well-formed headers', () => {
  assert.throws(() => bearerToken(undefined), { code: 'NULL_CREDENTIALS' });
  assert.throws(() => bearerToken(''), { code: 'NULL_CREDENTIALS' });
  for (const header of ['Basic abc', 'Bearer', 'Bearer ', 'Bearer a b', 'Bearer tökén', `Bearer ${'x'.repeat(600)}`]) {
    assert.throws(() => bearerToken(header), { code: 'MALFORMED_CREDENTIALS' }, header);
  }
  assert.equal(bearerToken('bearer abc.DEF-123'), 'abc.DEF-123');
});
