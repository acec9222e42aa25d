import type { Kysely } from 'kysely';

// Integrations (per-partner pipeline rules), the event log (the queue is this table), and the
// canonical chat summaries the pipeline produces.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('integrations')
    .addColumn('username', 'text', (c) => c.notNull().references('subscribers.username').onDelete('cascade'))
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('dealer_id_field', 'text', (c) => c.notNull())
    .addColumn('dealer_map', 'text', (c) => c.notNull())
    .addColumn('json_schema', 'text')
    .addColumn('transform', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('integrations_pk', ['username', 'event_type'])
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('request_id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().references('subscribers.username'))
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('raw_body', 'text', (c) => c.notNull())
    .addColumn('body_sha256', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text')
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('run_after', 'bigint', (c) => c.notNull())
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'bigint')
    .addColumn('dealer_uuid', 'text')
    .addColumn('errors', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('warnings', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('last_error', 'text')
    .addColumn('processed_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    // The idempotency guarantee is this constraint, not a cache (NULL keys never collide).
    .addUniqueConstraint('events_idempotency_uq', ['username', 'idempotency_key'])
    .execute();
  // The worker's claim: oldest runnable RECEIVED events first.
  await db.schema.createIndex('events_claim_idx').on('events').columns(['status', 'run_after', 'received_at']).execute();
  await db.schema.createIndex('events_subscriber_idx').on('events').columns(['username', 'received_at']).execute();

  await db.schema
    .createTable('chat_summaries')
    .addColumn('request_id', 'text', (c) => c.primaryKey().references('events.request_id'))
    .addColumn('dealer_uuid', 'text', (c) => c.notNull().references('dealers.uuid'))
    .addColumn('vehicle_uuid', 'text')
    .addColumn('customer_uuid', 'text')
    .addColumn('vin', 'text')
    .addColumn('chat_code', 'text')
    .addColumn('event_timestamp', 'bigint', (c) => c.notNull())
    .addColumn('escalation_flag', 'integer')
    .addColumn('record', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('chat_summaries_dealer_idx').on('chat_summaries').columns(['dealer_uuid', 'event_timestamp']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['chat_summaries', 'events', 'integrations']) await db.schema.dropTable(table).execute();
}
