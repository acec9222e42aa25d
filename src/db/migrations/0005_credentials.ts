import type { Kysely } from 'kysely';

// Password rotation with an overlap window (the previous hash stays valid until
// previous_valid_until, epoch ms), a per-subscriber rate limit (JSON text
// {"requestsPerSecond","burst"}, null = unlimited) and the cluster-wide token buckets that API
// nodes on PostgreSQL reconcile with (src/auth/rate-limiter.ts; docs/architecture.md).
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscribers').addColumn('previous_password_hash', 'text').execute();
  await db.schema.alterTable('subscribers').addColumn('previous_valid_until', 'bigint').execute();
  await db.schema.alterTable('subscribers').addColumn('rate_limit', 'text').execute();
  await db.schema
    .createTable('rate_limits')
    .addColumn('username', 'text', (c) => c.primaryKey())
    .addColumn('tokens', 'double precision', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limits').execute();
  for (const column of ['rate_limit', 'previous_valid_until', 'previous_password_hash']) {
    await db.schema.alterTable('subscribers').dropColumn(column).execute();
  }
}
