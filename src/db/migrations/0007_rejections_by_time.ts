import { type Kysely, sql } from 'kysely';

// The operator console's overview counts the REJECTED outcomes of the last 24 hours from the
// events' timelines (src/admin/stats.routes.ts). A partial index on `at` holding only those
// outcomes makes that a range read of the window: PROCESSED, RETRY, FAILED and REPLAYED entries,
// nearly every write to the table, are not in it and cost nothing more. Both databases support
// partial indexes; a query uses it only if its WHERE states `outcome = 'REJECTED'` as here, with
// the literal rather than a bound parameter (a PostgreSQL generic plan cannot use it for
// `outcome = $1`).
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('event_attempts_rejected_at')
    .on('event_attempts')
    .column('at')
    .where(sql.ref('outcome'), '=', 'REJECTED')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('event_attempts_rejected_at').execute();
}
