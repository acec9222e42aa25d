import { type Kysely, sql } from 'kysely';

// Raw bodies move out of the events row into their own table. The pipeline updates an event's
// row twice (claim, outcome); with the 1–2 KB body inside, both rewrote the whole row (SQLite
// rewrites a record, PostgreSQL copies the tuple). Measured on SQLite, claims took 20 % of the
// storage thread. It also lets a retention purge drop bodies and keep the event.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('event_bodies')
    .addColumn('request_id', 'text', (c) => c.primaryKey().references('events.request_id'))
    .addColumn('raw_body', 'text', (c) => c.notNull())
    .execute();
  await sql`INSERT INTO event_bodies (request_id, raw_body) SELECT request_id, raw_body FROM events`.execute(db);
  await db.schema.alterTable('events').dropColumn('raw_body').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('events')
    .addColumn('raw_body', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await sql`UPDATE events SET raw_body = (SELECT raw_body FROM event_bodies b WHERE b.request_id = events.request_id)`.execute(db);
  await db.schema.dropTable('event_bodies').execute();
}
