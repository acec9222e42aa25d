import { type Kysely, sql } from 'kysely';
import { dialectOfKysely } from '../dialect.js';

// Raw bodies are no longer tokenized for full-text search inside the gate's commit: nobody
// searches an event in the second it arrives, and the work is a large share of each event's cost.
// SQLite: FTS5 indexing took ~20–25 µs per event of the one writer (npm run bench:cpu, storage
// thread 134–141 → 114–118 µs per event without it). The insert trigger now
// only queues the body's rowid in event_search_backlog; the storage thread indexes the backlog
// when the gate is quiet, or in chunks when it grows past a bound (src/storage/search-index.ts),
// and search reads the backlog directly (src/eventlog/event.filter.ts), so no event is ever missing
// from a search.
//
// The backlog is keyed by the body's rowid, not by a high-water mark: event_bodies has no
// AUTOINCREMENT, so SQLite may reuse the rowid of a deleted newest row, which a mark would skip.
// A body deleted (retention) or rewritten before it was indexed must not be "deleted" from the
// FTS index, which would corrupt its token counts: the triggers check the backlog first.
//
// PostgreSQL: the GIN expression index on to_tsvector(raw_body) cost the server ~145 µs per
// event inside the gate's commit (npm run bench:cpu: 326–340 → 184 µs of server CPU per event
// without it, gate 2 450 → 3 250 req/s). The vectors now live in their own table, event_search,
// written by the indexer from the backlog the insert trigger fills; both tables reference the
// body, so a purged body takes its vector and its backlog entry with it.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  if (dialectOfKysely(db) === 'postgres') {
    await sql`CREATE TABLE event_search (
      request_id text PRIMARY KEY REFERENCES event_bodies (request_id) ON DELETE CASCADE,
      doc tsvector NOT NULL)`.execute(db);
    await sql`INSERT INTO event_search (request_id, doc) SELECT request_id, to_tsvector('simple', raw_body) FROM event_bodies`.execute(db);
    await sql`CREATE INDEX event_search_doc ON event_search USING gin (doc)`.execute(db);
    await sql`DROP INDEX event_bodies_search`.execute(db);
    await sql`CREATE TABLE event_search_backlog (
      request_id text PRIMARY KEY REFERENCES event_bodies (request_id) ON DELETE CASCADE)`.execute(db);
    // One statement-level trigger per INSERT: the gate's multi-row insert queues its rows at once.
    await sql`CREATE FUNCTION event_bodies_queue_search() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          DELETE FROM event_search WHERE request_id IN (SELECT request_id FROM new_bodies);
        END IF;
        INSERT INTO event_search_backlog (request_id) SELECT request_id FROM new_bodies ON CONFLICT DO NOTHING;
        RETURN NULL;
      END $$`.execute(db);
    await sql`CREATE TRIGGER event_bodies_search_insert AFTER INSERT ON event_bodies
      REFERENCING NEW TABLE AS new_bodies FOR EACH STATEMENT EXECUTE FUNCTION event_bodies_queue_search()`.execute(db);
    // A rewritten body leaves the index and is queued again (PostgreSQL allows no column list
    // with transition tables: any UPDATE of a body row, which nothing but raw_body has).
    await sql`CREATE TRIGGER event_bodies_search_update AFTER UPDATE ON event_bodies
      REFERENCING NEW TABLE AS new_bodies FOR EACH STATEMENT EXECUTE FUNCTION event_bodies_queue_search()`.execute(db);
    return;
  }
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
  if (dialectOfKysely(db) === 'postgres') {
    await sql`DROP TRIGGER event_bodies_search_insert ON event_bodies`.execute(db);
    await sql`DROP TRIGGER event_bodies_search_update ON event_bodies`.execute(db);
    await sql`DROP FUNCTION event_bodies_queue_search()`.execute(db);
    await sql`DROP TABLE event_search_backlog`.execute(db);
    await sql`DROP TABLE event_search`.execute(db);
    await sql`CREATE INDEX event_bodies_search ON event_bodies USING gin (to_tsvector('simple', raw_body))`.execute(db);
    return;
  }
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
