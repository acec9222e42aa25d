// Migrations keep data: events stored before 0003 keep their bodies after it (both databases).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Migrator } from 'kysely';
import { MIGRATIONS, migrateToLatest } from '../../src/db/migrate.js';
import { whereEvents } from '../../src/eventlog/event.filter.js';
import { findEvent } from '../../src/eventlog/event.repository.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';

for (const dialect of testDialects()) {
  describe(`migration 0003: event bodies move to their own table [${dialect}]`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase(dialect, {}, { migrate: false });
    });
    after(() => tdb?.destroy());

    test('an event stored under 0002 reads back with its body, byte for byte, under 0003', async () => {
      const db = tdb.db.kysely;
      const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...MIGRATIONS }) } });
      const to0002 = await migrator.migrateTo('0002_events');
      assert.equal(to0002.error, undefined);
      // Rows as 0002 knew them (apply itself writes tables of later migrations).
      // biome-ignore lint/suspicious/noExplicitAny: the 0002 table shape is not today's schema type
      await (db as any)
        .insertInto('subscribers')
        .values({ username: 'partner', password_hash: 'x', disabled: 0, created_at: 1, updated_at: 1 })
        .execute();
      const body = '{"chat_code":"OLD-1","summary":"é — 🚗"}';
      // biome-ignore lint/suspicious/noExplicitAny: the 0002 table shape is not today's schema type
      await (db as any)
        .insertInto('events')
        .values({
          request_id: 'old-event-1',
          username: 'partner',
          event_type: 'vehicle-service-chat',
          raw_body: body,
          body_sha256: 'x',
          idempotency_key: null,
          received_at: 1,
          status: 'PROCESSED',
          attempts: 1,
          run_after: 1,
          updated_at: 1,
        })
        .execute();

      const latest = await migrateToLatest(db);
      assert.equal(latest.error, undefined);
      assert.deepEqual(latest.applied, [
        '0003_event_bodies',
        '0004_operations',
        '0005_credentials',
        '0006_search_backlog',
        '0007_rejections_by_time',
        '0008_delivery',
        '0009_lead_formats',
      ]);
      const row = await findEvent(db, 'old-event-1');
      assert.equal(row?.raw_body, body);
      assert.equal(row?.status, 'PROCESSED');
      const columns = (await db.introspection.getTables()).find((t) => t.name === 'events')?.columns.map((c) => c.name) ?? [];
      assert.ok(!columns.includes('raw_body'), 'events no longer carries the body');
      // 0004 indexed the bodies already stored for full-text search.
      const found = await whereEvents(db.selectFrom('events').select('request_id'), { text: 'OLD-1' }, db).execute();
      assert.deepEqual(
        found.map((r) => r.request_id),
        ['old-event-1'],
      );
    });
  });
}
