import { type Kysely, sql } from 'kysely';
import { dialectOfKysely } from '../dialect.js';

// Delivery: the destinations operators define, the outbox (one message per outcome and matching
// destination, written in the outcome's own commit) and the log of every attempt to send one.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  const dialect = dialectOfKysely(db);
  const serial = dialect === 'postgres' ? sql`bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY` : sql`INTEGER PRIMARY KEY AUTOINCREMENT`;

  await sql`CREATE TABLE destinations (
    name text PRIMARY KEY,
    kind text NOT NULL,
    url text,
    event_types text NOT NULL,
    dealers text NOT NULL,
    secret text NOT NULL,
    feed_token_sha256 text,
    previous_secret text,
    previous_secret_until bigint,
    ordering text NOT NULL,
    retry_schedule text,
    rate_limit integer,
    enabled integer NOT NULL,
    disabled_reason text,
    failure_streak integer NOT NULL DEFAULT 0,
    failing_since bigint,
    breaker_open_until bigint,
    last_success_at bigint,
    last_failure_at bigint,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  )`.execute(db);

  // seq: the order messages were written in. On SQLite (one writer) it is the commit order.
  await sql`CREATE TABLE outbox_messages (
    seq ${serial},
    id text NOT NULL UNIQUE,
    destination text NOT NULL REFERENCES destinations(name) ON DELETE CASCADE,
    event_type text NOT NULL,
    dealer_uuid text,
    ordering_key text NOT NULL,
    source_id text NOT NULL,
    payload text NOT NULL,
    created_at bigint NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at bigint NOT NULL,
    locked_by text,
    locked_until bigint,
    last_error text,
    delivered_at bigint
  )`.execute(db);
  // The sender's claim reads only messages still waiting: delivered ones leave this index.
  await db.schema
    .createIndex('outbox_waiting')
    .on('outbox_messages')
    .columns(['next_attempt_at', 'seq'])
    .where(sql.ref('status'), '=', 'PENDING')
    .execute();
  // Per-dealer ordering: is an earlier message of this destination and dealer still waiting?
  await db.schema
    .createIndex('outbox_waiting_by_key')
    .on('outbox_messages')
    .columns(['destination', 'ordering_key', 'seq'])
    .where(sql.ref('status'), '=', 'PENDING')
    .execute();
  // The retention purge deletes delivered messages by age; only their rows are in it.
  await db.schema
    .createIndex('outbox_delivered')
    .on('outbox_messages')
    .column('delivered_at')
    .where(sql.ref('status'), '=', 'DELIVERED')
    .execute();
  await db.schema.createIndex('outbox_by_destination').on('outbox_messages').columns(['destination', 'seq']).execute();
  await db.schema.createIndex('outbox_by_source').on('outbox_messages').columns(['source_id']).execute();

  await sql`CREATE TABLE delivery_attempts (
    id ${serial},
    message_id text NOT NULL REFERENCES outbox_messages(id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    at bigint NOT NULL,
    duration_ms integer NOT NULL,
    status_code integer,
    response_headers text,
    response_body text,
    error text
  )`.execute(db);
  await db.schema.createIndex('delivery_attempts_by_message').on('delivery_attempts').columns(['message_id', 'id']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['delivery_attempts', 'outbox_messages', 'destinations']) await db.schema.dropTable(table).execute();
}
