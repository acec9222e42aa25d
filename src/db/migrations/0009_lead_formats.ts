import type { Kysely } from 'kysely';

// Leads for dealer CRMs: a destination's format (json, or adf-xml for the lead types), the
// e-mail kind's recipients, and each message's content type (the payload is JSON or ADF/XML,
// fixed when the message is written, whatever the destination's format becomes later), and the
// partner that last saved each lead (the ADF document's provider).
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('destinations')
    .addColumn('format', 'text', (c) => c.notNull().defaultTo('json'))
    .execute();
  await db.schema.alterTable('destinations').addColumn('email_to', 'text').execute();
  await db.schema
    .alterTable('outbox_messages')
    .addColumn('content_type', 'text', (c) => c.notNull().defaultTo('application/json'))
    .execute();
  await db.schema.alterTable('leads').addColumn('saved_by', 'text').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('leads').dropColumn('saved_by').execute();
  await db.schema.alterTable('outbox_messages').dropColumn('content_type').execute();
  await db.schema.alterTable('destinations').dropColumn('email_to').execute();
  await db.schema.alterTable('destinations').dropColumn('format').execute();
}
