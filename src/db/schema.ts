// Table types for Kysely. Column types are chosen to mean the same on both dialects:
// timestamps are epoch milliseconds (bigint), flags are 0/1 integers, JSON is text.
import type { Generated, Insertable, Selectable } from 'kysely';

export interface DealersTable {
  uuid: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export interface SubscribersTable {
  username: string;
  password_hash: string;
  disabled: number;
  /** The hash before the last password change, valid until previous_valid_until (migration 0005). */
  previous_password_hash: string | null;
  /** Epoch ms after which previous_password_hash no longer signs in. */
  previous_valid_until: number | null;
  /** JSON {"requestsPerSecond","burst"}, or null for no limit (migration 0005). */
  rate_limit: string | null;
  created_at: number;
  updated_at: number;
}

/** dealer_uuid is a dealer's UUID for a Dealer-level grant, or '*' for a MultiDealer grant. */
interface GrantsTable {
  username: string;
  scope: string;
  dealer_uuid: string;
}

export interface CustomersTable {
  uuid: string;
  dealer_uuid: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  created_at: number;
  updated_at: number;
}

export interface VehiclesTable {
  uuid: string;
  dealer_uuid: string;
  customer_uuid: string;
  vin: string | null;
  year: number | null;
  make: string | null;
  model: string | null;
  created_at: number;
  updated_at: number;
}

/** One row (id = 1). `revision` grows with every apply that changed something. */
interface ProvisioningStateTable {
  id: number;
  revision: number;
  applied_at: number;
}

interface LeadsTable {
  prospect_uuid: string;
  dealer_uuid: string;
  /** What makes two saves the same lead; unique per dealer (see leads/lead.key.ts). */
  lead_key: string;
  lead_id: string | null;
  web_id: string | null;
  customer_uuid: string;
  vehicle_uuid: string;
  source: string;
  status: string;
  lead_type: string;
  last_contact_at: number;
  /** the partner (subscriber) whose save this is; null for leads saved before it was kept */
  saved_by: string | null;
  /** The saved lead, normalized, as JSON. */
  body: string;
  save_count: number;
  created_at: number;
  updated_at: number;
}

export interface IntegrationsTable {
  username: string;
  event_type: string;
  active: number;
  dealer_id_field: string;
  /** JSON object: partner dealer id → our dealer UUID. */
  dealer_map: string;
  /** JSON Schema (text) applied to the raw body, or null. */
  json_schema: string | null;
  /** JSONata expression, or null when the partner sends the canonical shape. */
  transform: string | null;
  created_at: number;
  updated_at: number;
}

interface EventsTable {
  request_id: string;
  username: string;
  event_type: string;
  body_sha256: string;
  idempotency_key: string | null;
  received_at: number;
  status: string;
  attempts: number;
  run_after: number;
  locked_by: string | null;
  locked_until: number | null;
  dealer_uuid: string | null;
  errors: string;
  warnings: string;
  /** Internal detail of the last transient failure, for operators; never shown to partners. */
  last_error: string | null;
  processed_at: number | null;
  updated_at: number;
}

/**
 * The body an event arrived with, as received, apart from the event's row: the pipeline
 * updates the row twice (claim, outcome), and a row that carried the body would be rewritten
 * whole each time (docs/performance.md).
 */
interface EventBodiesTable {
  request_id: string;
  raw_body: string;
}

export interface ChatSummariesTable {
  request_id: string;
  dealer_uuid: string;
  vehicle_uuid: string | null;
  customer_uuid: string | null;
  vin: string | null;
  chat_code: string | null;
  event_timestamp: number;
  escalation_flag: number | null;
  /** The canonical record with the contract's snake_case names, as JSON. */
  record: string;
  created_at: number;
  updated_at: number;
}

/** One finished attempt of an event, or a replay: its timeline (migration 0004). */
interface EventAttemptsTable {
  id: Generated<number>;
  request_id: string;
  attempt: number;
  worker_id: string | null;
  at: number;
  /** PROCESSED, REJECTED, RETRY, FAILED or REPLAYED */
  outcome: string;
  cause: string | null;
}

/** Every change made through the admin API or `apply`: who, what, when, before/after (JSON). */
interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor: string;
  action: string;
  entity: string;
  entity_key: string;
  before: string | null;
  after: string | null;
}

/** A replay of every event matching a filter, run in the background. */
interface ReplayJobsTable {
  id: string;
  /** The EventFilter as JSON. */
  filter: string;
  actor: string;
  /** RUNNING, DONE or FAILED */
  status: string;
  total: number;
  replayed: number;
  error: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

interface AdminSettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

/** A subscriber's cluster-wide token bucket (PostgreSQL; see src/auth/rate-limiter.ts). */
interface RateLimitsTable {
  username: string;
  tokens: number;
  updated_at: number;
}

/** Where outcomes are delivered (src/outbox/destination.repository.ts maps it). */
interface DestinationsTable {
  name: string;
  /** webhook (sent to `url`), pull (read from GET /feeds/v1/{name}; no url) or email (to `email_to`) */
  kind: string;
  url: string | null;
  /** json (the webhook envelope) or adf-xml (leads as ADF documents) */
  format: string;
  /** email: JSON array of recipient addresses; null otherwise */
  email_to: string | null;
  /** JSON array of outbound types */
  event_types: string;
  /** JSON: "*" or an array of dealer UUIDs */
  dealers: string;
  /** whsec_…: signs every message */
  secret: string;
  /** pull: the SHA-256 (hex) of the feed's Bearer token; the token itself is never stored */
  feed_token_sha256: string | null;
  /** the secret before the last rotation: also signs until previous_secret_until */
  previous_secret: string | null;
  previous_secret_until: number | null;
  /** none | per-dealer */
  ordering: string;
  /** JSON array of delays in seconds, or null for the default schedule */
  retry_schedule: string | null;
  rate_limit: number | null;
  enabled: number;
  disabled_reason: string | null;
  /** consecutive failed attempts; 10 or more opens the breaker */
  failure_streak: Generated<number>;
  /** when the current streak of failures began (disabled after DELIVERY_DISABLE_AFTER_DAYS) */
  failing_since: number | null;
  /** the breaker is open until then: no attempt, then one probe */
  breaker_open_until: number | null;
  last_success_at: number | null;
  last_failure_at: number | null;
  created_at: number;
  updated_at: number;
}

/** One message an outcome owes one destination; written in the outcome's commit. */
interface OutboxMessagesTable {
  seq: Generated<number>;
  /** msg_…: the webhook-id, the same on every attempt */
  id: string;
  destination: string;
  event_type: string;
  dealer_uuid: string | null;
  /** dealer_uuid, or '' when unknown: per-dealer ordering holds messages of one key in seq order */
  ordering_key: string;
  /** the event's requestId or the lead's prospect UUID */
  source_id: string;
  /** the body, exactly as sent and signed: the JSON envelope or an ADF document */
  payload: string;
  /** application/json or application/xml (ADF) */
  content_type: Generated<string>;
  created_at: number;
  /** PENDING, DELIVERED or FAILED */
  status: string;
  attempts: Generated<number>;
  next_attempt_at: number;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  delivered_at: number | null;
}

/** One attempt to send a message: what the destination answered, or why nothing was sent. */
interface DeliveryAttemptsTable {
  id: Generated<number>;
  message_id: string;
  attempt: number;
  at: number;
  duration_ms: number;
  status_code: number | null;
  /** JSON object of the response's headers */
  response_headers: string | null;
  /** the first 16 KB of the response's body */
  response_body: string | null;
  error: string | null;
}

export interface Database {
  dealers: DealersTable;
  subscribers: SubscribersTable;
  grants: GrantsTable;
  customers: CustomersTable;
  vehicles: VehiclesTable;
  provisioning_state: ProvisioningStateTable;
  leads: LeadsTable;
  integrations: IntegrationsTable;
  events: EventsTable;
  event_bodies: EventBodiesTable;
  chat_summaries: ChatSummariesTable;
  event_attempts: EventAttemptsTable;
  audit_log: AuditLogTable;
  replay_jobs: ReplayJobsTable;
  admin_settings: AdminSettingsTable;
  rate_limits: RateLimitsTable;
  destinations: DestinationsTable;
  outbox_messages: OutboxMessagesTable;
  delivery_attempts: DeliveryAttemptsTable;
}

export type DestinationRow = Selectable<DestinationsTable>;
export type OutboxMessageRow = Selectable<OutboxMessagesTable>;

export type LeadRow = Selectable<LeadsTable>;
export type NewLeadRow = Insertable<LeadsTable>;
/** An event with its body, as the pipeline and the status views read it. */
export type EventRow = Selectable<EventsTable> & { raw_body: string };
/** An event as the admin and status views read it: its body is null once retention purged it. */
export type StoredEventRow = Selectable<EventsTable> & { raw_body: string | null };
/** A received event to store: its row and its body. */
export type NewEventRow = Insertable<EventsTable> & { raw_body: string };
