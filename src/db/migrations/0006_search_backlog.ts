import { type Kysely, sql } from 'kysely';
import { dialectOfKysely } from '../dialect.js';

// SQLite: raw bodies are no longer tokenized inside the gate's commit. Indexing a 1.2 KB body
// for full-text search costs ~48 µs of the one writer's time, a third of what the storage thread
// spends per event, and nobody searches an event in the second it arrives. The insert trigger now
// only queues the body's rowid in event_search_backlog; the storage thread indexes the backlog
// when the gate is quiet, or in chunks when it grows past a bound (src/events/search-index.ts),
// and search reads the backlog directly (src/events/event.filter.ts), so no event is ever missing
// from a search.
//
// The backlog is keyed by the body's rowid, not by a high-water mark: event_bodies has no
// AUTOINCREMENT, so SQLite may reuse the rowid of a deleted newest row, which a mark would skip.
// A body deleted (retention) or rewritten before it was indexed must not be "deleted" from the
// FTS index, which would corrupt its token counts: the triggers check the backlog first.
//
// PostgreSQL is unchanged: its GIN index already defers work through its pending list.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  if (dialectOfKysely(db) === 'postgres') return;
  await sql`CREATE TABLE event_search_backlog (body_rowid INTEGER PRIMARY KEY)`.execute(db);
  for (const trigger of ['insert', 'delete', 'update']) await sql.raw(`DROP TRIGGER event_bodies_search_${trigger}`).execute(db);
  await sql`CREATE TRIGGER event_bodies_search_insert AFTER INSERT ON event_bodies BEGIN
    INSERT INTO event_search_backlog(body_rowid) VALUES (new.rowid); END`.execute(db);
  await sql`CREATE TRIGGER event_bodies_search_delete AFTER DELETE ON event_bodies BEGIN
    INSERT INTO event_search(event_search, rowid, raw_body) SELECT 'delete', old.rowid, old.raw_body
      WHERE NOT EXISTS (SELECT 1 FROM event_search_backlog WHERE body_rowid = old.rowid);
    DELETE FROM event_search_backlog WHERE body_rowid = old.rowid; END`.execute(db);
  // A body still in the backlog is indexed later with whatever it then holds.
  await sql`CREATE TRIGGER event_bodies_search_update AFTER UPDATE ON event_bodies
    WHEN NOT EXISTS (SELECT 1 FROM event_search_backlog WHERE body_rowid = old.rowid) BEGIN
    INSERT INTO event_search(event_search, rowid, raw_body) VALUES ('delete', old.rowid, old.raw_body);
    INSERT INTO event_search(rowid, raw_body) VALUES (new.rowid, new.raw_body); END`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  if (dialectOfKysely(db) === 'postgres') return;
  await sql`INSERT INTO event_search(rowid, raw_body)
    SELECT b.rowid, b.raw_body FROM event_bodies b JOIN event_search_backlog q ON q.body_rowid = b.rowid`.execute(db);
  for (const trigger of ['insert', 'delete', 'update']) await sql.raw(`DROP TRIGGER event_bodies_search_${trigger}`).execute(db);
  await sql`DROP TABLE event_search_backlog`.execute(db);
  await sql`CREATE TRIGGER event_bodies_search_insert AFTER INSERT ON event_bodies BEGIN
    INSERT INTO event_search(rowid, raw_body) VALUES (new.rowid, new.raw_body); END`.execute(db);
  await sql`CREATE TRIGGER event_bodies_search_delete AFTER DELETE ON event_bodies BEGIN
    INSERT INTO event_search(event_search, rowid, raw_body) VALUES ('delete', old.rowid, old.raw_body); END`.execute(db);
  await sql`CREATE TRIGGER event_bodies_search_update AFTER UPDATE ON event_bodies BEGIN
    INSERT INTO event_search(event_search, rowid, raw_body) VALUES ('delete', old.rowid, old.raw_body);
    INSERT INTO event_search(rowid, raw_body) VALUES (new.rowid, new.raw_body); END`.execute(db);
}
