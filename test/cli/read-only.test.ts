// `dealer-gateway events list|show` only read: they never migrate the database they are pointed
// at (they used to apply pending migrations on open). A schema behind this version, ahead of it,
// or absent is an exit 1 with one line saying so and what to do; the database is left as it was.
// `events replay` writes, and still migrates first. Run for real as child processes (the build).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Migrator } from 'kysely';
import type { Db } from '../../src/db/connect.js';
import { MIGRATIONS } from '../../src/db/migrate.js';
import { run, show } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';

const NAMES = Object.keys(MIGRATIONS).sort();
const LATEST = NAMES.at(-1) as string;
const BEFORE_LATEST = NAMES.at(-2) as string;

/** The applied migrations' names, and every table (Kysely's own included): what "unchanged" means. */
async function snapshot(db: Db): Promise<{ migrations: string[]; tables: string[] }> {
  const tables = (await db.kysely.introspection.getTables({ withInternalKyselyTables: true })).map((t) => t.name).sort();
  const migrations = tables.includes('kysely_migration')
    ? (
        await db.kysely
          .withTables<{ kysely_migration: { name: string } }>()
          .selectFrom('kysely_migration')
          .select('name')
          .orderBy('name')
          .execute()
      ).map((r) => r.name)
    : [];
  return { migrations, tables };
}

const migrator = (db: Db) => new Migrator({ db: db.kysely, provider: { getMigrations: async () => ({ ...MIGRATIONS }) } });

/** `events list` and `events show ID` against the database: exit 1, stderr = database line + `expected`. */
async function assertRefused(tdb: TestDatabase, expected: RegExp): Promise<void> {
  const env = { DATABASE_URL: tdb.url };
  const before = await snapshot(tdb.db);
  for (const args of [
    ['events', 'list'],
    ['events', 'list', '--json'],
    ['events', 'show', '00000000-0000-4000-8000-000000000000'],
  ]) {
    const r = await run(args, env);
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stdout, '', show(r));
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^database: /, show(r));
    assert.equal(lines.length, 2, `one line of error after the database line\n${show(r)}`);
    assert.match(lines[1] ?? '', expected, show(r));
  }
  assert.deepEqual(await snapshot(tdb.db), before, 'the database is unchanged');
}

for (const dialect of testDialects()) {
  describe(`cli: read-only events commands never migrate [${dialect}]`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase(dialect, {}, { migrate: false });
    });
    after(() => tdb?.destroy());

    test('a database with no schema yet: exit 1 "no dealer-gateway schema yet … run dealer-gateway migrate", nothing created', async () => {
      await assertRefused(
        tdb,
        new RegExp(
          `^dealer-gateway events: the database has no dealer-gateway schema yet \\(${NAMES.length} migrations \\(${NAMES.join(', ')}\\) to apply\\); run "dealer-gateway migrate" first \\(this command only reads and does not migrate\\)$`,
        ),
      );
      assert.deepEqual((await snapshot(tdb.db)).tables, [], 'not even Kysely’s migration tables');
    });

    test(`a schema behind this version (${LATEST} pending): exit 1 naming it and "dealer-gateway migrate"; not migrated`, async () => {
      const to = await migrator(tdb.db).migrateTo(BEFORE_LATEST);
      assert.equal(to.error, undefined);
      assert.deepEqual((await snapshot(tdb.db)).migrations, NAMES.slice(0, -1));
      await assertRefused(
        tdb,
        new RegExp(
          `^dealer-gateway events: the database schema is behind dealer-gateway \\S+: 1 migration \\(${LATEST}\\) not applied yet; run "dealer-gateway migrate" first`,
        ),
      );
      assert.equal((await snapshot(tdb.db)).migrations.length, NAMES.length - 1, 'the migration row count is the same');
    });

    test('after `dealer-gateway migrate`, events list reads the database and changes nothing', async () => {
      const migrated = await run(['migrate'], { DATABASE_URL: tdb.url });
      assert.equal(migrated.code, 0, show(migrated));
      assert.match(migrated.stdout, new RegExp(`applied ${LATEST}`));
      const before = await snapshot(tdb.db);
      assert.deepEqual(before.migrations, NAMES);
      const r = await run(['events', 'list', '--json'], { DATABASE_URL: tdb.url });
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(JSON.parse(r.stdout), []);
      assert.deepEqual(await snapshot(tdb.db), before);
    });

    test('a schema ahead of this version (a migration it does not know): exit 1 saying so; unchanged', async () => {
      await tdb.db.kysely
        .withTables<{ kysely_migration: { name: string; timestamp: string } }>()
        .insertInto('kysely_migration')
        .values({ name: '9999_from_the_future', timestamp: new Date().toISOString() })
        .execute();
      await assertRefused(
        tdb,
        /^dealer-gateway events: the database schema is ahead of dealer-gateway \S+: it has 1 migration \(9999_from_the_future\) this version does not know, applied by a newer version; run this command with that version/,
      );
    });

    test('events replay writes, so it still migrates a database that is behind', async () => {
      await tdb.db.kysely
        .withTables<{ kysely_migration: { name: string } }>()
        .deleteFrom('kysely_migration')
        .where('name', '=', '9999_from_the_future')
        .execute();
      const down = await migrator(tdb.db).migrateTo(BEFORE_LATEST);
      assert.equal(down.error, undefined);
      assert.deepEqual((await snapshot(tdb.db)).migrations, NAMES.slice(0, -1));
      const r = await run(['events', 'replay', '--dry-run'], { DATABASE_URL: tdb.url });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^0 event\(s\) would be replayed$/m);
      assert.deepEqual((await snapshot(tdb.db)).migrations, NAMES);
    });
  });
}
