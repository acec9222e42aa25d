import type { Kysely } from 'kysely';

// Dealers, subscribers and their scopes, customers and vehicles, and leads.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('dealers')
    .addColumn('uuid', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('subscribers')
    .addColumn('username', 'text', (c) => c.primaryKey())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('grants')
    .addColumn('username', 'text', (c) => c.notNull().references('subscribers.username').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('dealer_uuid', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('grants_pk', ['username', 'scope', 'dealer_uuid'])
    .execute();

  await db.schema
    .createTable('customers')
    .addColumn('uuid', 'text', (c) => c.primaryKey())
    .addColumn('dealer_uuid', 'text', (c) => c.notNull().references('dealers.uuid'))
    .addColumn('first_name', 'text')
    .addColumn('last_name', 'text')
    .addColumn('email', 'text')
    .addColumn('phone', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('customers_dealer_idx').on('customers').columns(['dealer_uuid']).execute();

  await db.schema
    .createTable('vehicles')
    .addColumn('uuid', 'text', (c) => c.primaryKey())
    .addColumn('dealer_uuid', 'text', (c) => c.notNull().references('dealers.uuid'))
    .addColumn('customer_uuid', 'text', (c) => c.notNull().references('customers.uuid'))
    .addColumn('vin', 'text')
    .addColumn('year', 'integer')
    .addColumn('make', 'text')
    .addColumn('model', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('vehicles_dealer_vin_idx').on('vehicles').columns(['dealer_uuid', 'vin']).execute();
  await db.schema.createIndex('vehicles_customer_idx').on('vehicles').columns(['customer_uuid']).execute();

  await db.schema
    .createTable('provisioning_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('provisioning_state').values({ id: 1, revision: 0, applied_at: 0 }).execute();

  await db.schema
    .createTable('leads')
    .addColumn('prospect_uuid', 'text', (c) => c.primaryKey())
    .addColumn('dealer_uuid', 'text', (c) => c.notNull().references('dealers.uuid'))
    .addColumn('lead_key', 'text', (c) => c.notNull())
    .addColumn('lead_id', 'text')
    .addColumn('web_id', 'text')
    .addColumn('customer_uuid', 'text', (c) => c.notNull().references('customers.uuid'))
    .addColumn('vehicle_uuid', 'text', (c) => c.notNull().references('vehicles.uuid'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('lead_type', 'text', (c) => c.notNull())
    .addColumn('last_contact_at', 'bigint', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('save_count', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    // The database, not the service, guarantees that racing identical saves make one lead.
    .addUniqueConstraint('leads_dealer_key_uq', ['dealer_uuid', 'lead_key'])
    .execute();
  await db.schema.createIndex('leads_dealer_updated_idx').on('leads').columns(['dealer_uuid', 'updated_at']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['leads', 'provisioning_state', 'vehicles', 'customers', 'grants', 'subscribers', 'dealers']) {
    await db.schema.dropTable(table).execute();
  }
}
