// The admin API's provisioning resources: dealers, customers, vehicles, subscribers, integrations
// and the audit log. Reads query the tables directly; every write builds a partial provisioning
// document and runs it through `applyProvisioning`, so the API and `apply` share one set of
// rules, one transaction shape and one audit trail, and cannot diverge. A partial document
// replaces whole rows (absent optional fields mean null), so updates first read the current row
// and send it back with the requested changes.
import { type Kysely, type Selectable, sql } from 'kysely';
import { type AuditRecord, listAudit } from '../audit/audit.repository.js';
import { ANY_DEALER } from '../auth/scopes.js';
import { AppError } from '../core/errors.js';
import type { CustomersTable, Database, DealersTable, IntegrationsTable, SubscribersTable, VehiclesTable } from '../db/schema.js';
import type {
  CustomerSpec,
  GrantSpec,
  IntegrationSpec,
  ProvisioningFile,
  RateLimitSpec,
  SubscriberSpec,
  VehicleSpec,
} from '../provisioning/provisioning.schema.js';
import { applyProvisioning } from '../provisioning/provisioning.service.js';
import { type Problem, ProvisioningError } from '../provisioning/provisioning.validate.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** Who the audit log names for changes made here. */
export const ADMIN_ACTOR = 'admin-api';

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A LIKE pattern matching `value` literally (its \, % and _ escaped), lower-cased. */
const likePattern = (value: string, where: 'prefix' | 'contains') => {
  const literal = value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  return where === 'prefix' ? `${literal}%` : `%${literal}%`;
};

/** The page and the cursor of the row after it; the query asked for limit + 1 rows. */
export function pageOf<R, T>(rows: R[], limit: number, toItem: (row: R) => T, keyOf: (row: R) => (string | number)[]): Page<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(toItem), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}

// ---- writes: through apply ----

/** `customers[0].vehicles[0].vin` → `vin` when the caller's fields sit under `prefix`. */
function describeProblems(problems: readonly Problem[], prefix: string): string {
  return problems
    .map((p) => {
      const path = p.path.startsWith(prefix) ? p.path.slice(prefix.length).replace(/^\./, '') : p.path;
      return path === '' ? p.message : `${path}: ${p.message}`;
    })
    .join('; ');
}

/** Applies a partial document as the admin API; apply's problems become one 400 naming each. */
async function write(db: Kysely<Database>, doc: ProvisioningFile, prefix: string): Promise<void> {
  try {
    await applyProvisioning(db, doc, { actor: ADMIN_ACTOR });
  } catch (err) {
    if (err instanceof ProvisioningError) throw new AppError('VALIDATION_FAILED', describeProblems(err.problems, prefix));
    throw err;
  }
}

// ---- dealers ----

export interface Dealer {
  readonly uuid: string;
  readonly name: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const dealerFromRow = (r: Selectable<DealersTable>): Dealer => ({
  uuid: r.uuid,
  name: r.name,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const findDealerRow = (db: Kysely<Database>, uuid: string) =>
  db.selectFrom('dealers').selectAll().where('uuid', '=', uuid).executeTakeFirst();

/** The dealer, or 404 DEALER_NOT_FOUND. */
export async function getDealer(db: Kysely<Database>, uuid: string): Promise<Dealer> {
  const row = await findDealerRow(db, uuid);
  if (!row) throw new AppError('DEALER_NOT_FOUND', `Dealer ${uuid} does not exist`);
  return dealerFromRow(row);
}

/** By UUID; `q` is a case-insensitive prefix of the name or the UUID. */
export async function listDealers(db: Kysely<Database>, filter: { q?: string }, page: PageRequest): Promise<Page<Dealer>> {
  let q = db.selectFrom('dealers').selectAll();
  if (filter.q !== undefined) {
    const pattern = likePattern(filter.q, 'prefix');
    q = q.where(sql<boolean>`(lower(name) LIKE ${pattern} ESCAPE '\\' OR lower(uuid) LIKE ${pattern} ESCAPE '\\')`);
  }
  if (page.cursor !== undefined) q = q.where('uuid', '>', decodeCursor(page.cursor, 's')[0] as string);
  const rows = await q
    .orderBy('uuid')
    .limit(page.limit + 1)
    .execute();
  return pageOf(rows, page.limit, dealerFromRow, (r) => [r.uuid]);
}

export async function createDealer(db: Kysely<Database>, input: { uuid: string; name: string }): Promise<Dealer> {
  if (await findDealerRow(db, input.uuid)) throw new AppError('CONFLICT', `Dealer ${input.uuid} already exists`);
  await write(db, { dealers: [{ uuid: input.uuid, name: input.name }] }, 'dealers[0]');
  return getDealer(db, input.uuid);
}

export async function updateDealer(db: Kysely<Database>, uuid: string, changes: { name: string }): Promise<Dealer> {
  await getDealer(db, uuid);
  await write(db, { dealers: [{ uuid, name: changes.name }] }, 'dealers[0]');
  return getDealer(db, uuid);
}

// ---- customers ----

export interface Customer {
  readonly uuid: string;
  readonly dealerUuid: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type CustomerFields = Partial<Pick<Customer, 'firstName' | 'lastName' | 'email' | 'phone'>>;

const customerFromRow = (r: Selectable<CustomersTable>): Customer => ({
  uuid: r.uuid,
  dealerUuid: r.dealer_uuid,
  firstName: r.first_name,
  lastName: r.last_name,
  email: r.email,
  phone: r.phone,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

/** The customer as a provisioning entry (without vehicles: apply then leaves them alone). */
const customerSpec = (c: Customer): CustomerSpec => ({
  dealer: c.dealerUuid,
  uuid: c.uuid,
  firstName: c.firstName,
  lastName: c.lastName,
  email: c.email,
  phone: c.phone,
});

const findCustomerRow = (db: Kysely<Database>, uuid: string) =>
  db.selectFrom('customers').selectAll().where('uuid', '=', uuid).executeTakeFirst();

export async function getCustomer(db: Kysely<Database>, uuid: string): Promise<Customer> {
  const row = await findCustomerRow(db, uuid);
  if (!row) throw new AppError('NOT_FOUND', `Customer ${uuid} does not exist`);
  return customerFromRow(row);
}

/** A dealer's customers by UUID; `q` is a case-insensitive part of the full name or the email. */
export async function listCustomers(
  db: Kysely<Database>,
  dealerUuid: string,
  filter: { q?: string },
  page: PageRequest,
): Promise<Page<Customer>> {
  await getDealer(db, dealerUuid);
  let q = db.selectFrom('customers').selectAll().where('dealer_uuid', '=', dealerUuid);
  if (filter.q !== undefined) {
    const pattern = likePattern(filter.q, 'contains');
    q = q.where(
      sql<boolean>`(lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) LIKE ${pattern} ESCAPE '\\'
        OR lower(coalesce(email, '')) LIKE ${pattern} ESCAPE '\\')`,
    );
  }
  if (page.cursor !== undefined) q = q.where('uuid', '>', decodeCursor(page.cursor, 's')[0] as string);
  const rows = await q
    .orderBy('uuid')
    .limit(page.limit + 1)
    .execute();
  return pageOf(rows, page.limit, customerFromRow, (r) => [r.uuid]);
}

export async function createCustomer(
  db: Kysely<Database>,
  dealerUuid: string,
  input: CustomerFields & { uuid: string },
): Promise<Customer> {
  await getDealer(db, dealerUuid);
  const existing = await findCustomerRow(db, input.uuid);
  if (existing) throw new AppError('CONFLICT', `Customer ${input.uuid} already exists (dealer ${existing.dealer_uuid})`);
  await write(db, { customers: [{ dealer: dealerUuid, ...input }] }, 'customers[0]');
  return getCustomer(db, input.uuid);
}

export async function updateCustomer(db: Kysely<Database>, uuid: string, changes: CustomerFields): Promise<Customer> {
  const current = await getCustomer(db, uuid);
  await write(db, { customers: [{ ...customerSpec(current), ...changes }] }, 'customers[0]');
  return getCustomer(db, uuid);
}

// ---- vehicles ----

export interface Vehicle {
  readonly uuid: string;
  readonly dealerUuid: string;
  readonly customerUuid: string;
  readonly vin: string | null;
  readonly year: number | null;
  readonly make: string | null;
  readonly model: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type VehicleFields = Partial<Pick<Vehicle, 'vin' | 'year' | 'make' | 'model'>>;

const vehicleFromRow = (r: Selectable<VehiclesTable>): Vehicle => ({
  uuid: r.uuid,
  dealerUuid: r.dealer_uuid,
  customerUuid: r.customer_uuid,
  vin: r.vin,
  year: r.year,
  make: r.make,
  model: r.model,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const vehicleSpec = (v: Vehicle): VehicleSpec => ({ uuid: v.uuid, vin: v.vin, year: v.year, make: v.make, model: v.model });

const findVehicleRow = (db: Kysely<Database>, uuid: string) =>
  db.selectFrom('vehicles').selectAll().where('uuid', '=', uuid).executeTakeFirst();

export async function getVehicle(db: Kysely<Database>, uuid: string): Promise<Vehicle> {
  const row = await findVehicleRow(db, uuid);
  if (!row) throw new AppError('NOT_FOUND', `Vehicle ${uuid} does not exist`);
  return vehicleFromRow(row);
}

/** A dealer's vehicles by UUID, optionally those with one VIN (the (dealer, vin) index). */
export async function listVehicles(
  db: Kysely<Database>,
  dealerUuid: string,
  filter: { vin?: string },
  page: PageRequest,
): Promise<Page<Vehicle>> {
  await getDealer(db, dealerUuid);
  let q = db.selectFrom('vehicles').selectAll().where('dealer_uuid', '=', dealerUuid);
  if (filter.vin !== undefined) q = q.where('vin', '=', filter.vin);
  if (page.cursor !== undefined) q = q.where('uuid', '>', decodeCursor(page.cursor, 's')[0] as string);
  const rows = await q
    .orderBy('uuid')
    .limit(page.limit + 1)
    .execute();
  return pageOf(rows, page.limit, vehicleFromRow, (r) => [r.uuid]);
}

export async function createVehicle(db: Kysely<Database>, customerUuid: string, input: VehicleFields & { uuid: string }): Promise<Vehicle> {
  const customer = await getCustomer(db, customerUuid);
  const existing = await findVehicleRow(db, input.uuid);
  if (existing) throw new AppError('CONFLICT', `Vehicle ${input.uuid} already exists (customer ${existing.customer_uuid})`);
  await write(db, { customers: [{ ...customerSpec(customer), vehicles: [input] }] }, 'customers[0].vehicles[0]');
  return getVehicle(db, input.uuid);
}

export async function updateVehicle(db: Kysely<Database>, uuid: string, changes: VehicleFields): Promise<Vehicle> {
  const current = await getVehicle(db, uuid);
  const customer = await getCustomer(db, current.customerUuid);
  await write(
    db,
    { customers: [{ ...customerSpec(customer), vehicles: [{ ...vehicleSpec(current), ...changes }] }] },
    'customers[0].vehicles[0]',
  );
  return getVehicle(db, uuid);
}

// ---- subscribers ----

export interface Subscriber {
  readonly username: string;
  readonly disabled: boolean;
  readonly rateLimit: RateLimitSpec | null;
  readonly grants: GrantSpec[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * Grant rows as provisioning grants, per scope: a MultiDealer grant as `"*"`, dealer-level
 * grants as one sorted list. Sending them back to apply reproduces exactly the same rows.
 */
function grantSpecs(rows: readonly { scope: string; dealer_uuid: string }[]): GrantSpec[] {
  const byScope = new Map<string, string[]>();
  for (const r of rows) byScope.set(r.scope, [...(byScope.get(r.scope) ?? []), r.dealer_uuid]);
  const specs: GrantSpec[] = [];
  for (const [scope, dealers] of [...byScope].sort(([a], [b]) => a.localeCompare(b))) {
    if (dealers.includes(ANY_DEALER)) specs.push({ scope, dealers: ANY_DEALER });
    const named = dealers.filter((d) => d !== ANY_DEALER).sort();
    if (named.length > 0) specs.push({ scope, dealers: named });
  }
  return specs;
}

async function subscribersFromRows(db: Kysely<Database>, rows: Selectable<SubscribersTable>[]): Promise<Subscriber[]> {
  if (rows.length === 0) return [];
  const grants = await db
    .selectFrom('grants')
    .select(['username', 'scope', 'dealer_uuid'])
    .where(
      'username',
      'in',
      rows.map((r) => r.username),
    )
    .execute();
  return rows.map((r) => ({
    username: r.username,
    disabled: r.disabled === 1,
    rateLimit: r.rate_limit === null ? null : (JSON.parse(r.rate_limit) as RateLimitSpec),
    grants: grantSpecs(grants.filter((g) => g.username === r.username)),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  }));
}

const findSubscriberRow = (db: Kysely<Database>, username: string) =>
  db.selectFrom('subscribers').selectAll().where('username', '=', username).executeTakeFirst();

async function requireSubscriberRow(db: Kysely<Database>, username: string): Promise<Selectable<SubscribersTable>> {
  const row = await findSubscriberRow(db, username);
  if (!row) throw new AppError('NOT_FOUND', `Subscriber ${username} does not exist`);
  return row;
}

export async function getSubscriber(db: Kysely<Database>, username: string): Promise<Subscriber> {
  const [subscriber] = await subscribersFromRows(db, [await requireSubscriberRow(db, username)]);
  return subscriber as Subscriber;
}

/** By username; `q` is a case-insensitive prefix of it. */
export async function listSubscribers(db: Kysely<Database>, filter: { q?: string }, page: PageRequest): Promise<Page<Subscriber>> {
  let q = db.selectFrom('subscribers').selectAll();
  if (filter.q !== undefined) q = q.where(sql<boolean>`lower(username) LIKE ${likePattern(filter.q, 'prefix')} ESCAPE '\\'`);
  if (page.cursor !== undefined) q = q.where('username', '>', decodeCursor(page.cursor, 's')[0] as string);
  const rows = await q
    .orderBy('username')
    .limit(page.limit + 1)
    .execute();
  const items = await subscribersFromRows(db, rows.slice(0, page.limit));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > page.limit && last !== undefined ? encodeCursor([last.username]) : null };
}

export async function createSubscriber(
  db: Kysely<Database>,
  input: { username: string; password: string; grants: GrantSpec[]; disabled?: boolean; rateLimit?: RateLimitSpec | null },
): Promise<Subscriber> {
  if (await findSubscriberRow(db, input.username)) throw new AppError('CONFLICT', `Subscriber ${input.username} already exists`);
  await write(db, { subscribers: [input] }, 'subscribers[0]');
  return getSubscriber(db, input.username);
}

/**
 * Changes a stored subscriber: its current state (password as its stored hash, so apply keeps
 * it) with `changes` on top. A new password replaces the hash instead.
 */
async function changeSubscriber(
  db: Kysely<Database>,
  username: string,
  changes: Partial<Pick<SubscriberSpec, 'password' | 'passwordOverlapHours' | 'disabled' | 'grants' | 'rateLimit'>>,
): Promise<Subscriber> {
  const row = await requireSubscriberRow(db, username);
  const [current] = (await subscribersFromRows(db, [row])) as [Subscriber];
  const { password, ...rest } = changes;
  const spec: SubscriberSpec = {
    username,
    ...(password === undefined ? { passwordHash: row.password_hash } : { password }),
    disabled: current.disabled,
    rateLimit: current.rateLimit,
    grants: current.grants,
    ...rest,
  };
  await write(db, { subscribers: [spec] }, 'subscribers[0]');
  return getSubscriber(db, username);
}

/** The old password keeps working for `passwordOverlapHours` (default 24; 0 = stops at once). */
export const rotatePassword = (db: Kysely<Database>, username: string, password: string, passwordOverlapHours?: number) =>
  changeSubscriber(db, username, { password, ...(passwordOverlapHours === undefined ? {} : { passwordOverlapHours }) });
export const setRateLimit = (db: Kysely<Database>, username: string, rateLimit: RateLimitSpec | null) =>
  changeSubscriber(db, username, { rateLimit });
export const setDisabled = (db: Kysely<Database>, username: string, disabled: boolean) => changeSubscriber(db, username, { disabled });
export const replaceGrants = (db: Kysely<Database>, username: string, grants: GrantSpec[]) => changeSubscriber(db, username, { grants });

// ---- integrations ----

export interface Integration {
  readonly subscriber: string;
  readonly eventType: string;
  readonly active: boolean;
  readonly dealerIdField: string;
  readonly dealerMap: Record<string, string>;
  readonly schema: object | boolean | null;
  readonly transform: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type IntegrationFields = Partial<Pick<IntegrationSpec, 'active' | 'dealerIdField' | 'dealerMap' | 'schema' | 'transform'>>;

const integrationFromRow = (r: Selectable<IntegrationsTable>): Integration => ({
  subscriber: r.username,
  eventType: r.event_type,
  active: r.active === 1,
  dealerIdField: r.dealer_id_field,
  dealerMap: JSON.parse(r.dealer_map) as Record<string, string>,
  schema: r.json_schema === null ? null : (JSON.parse(r.json_schema) as object | boolean),
  transform: r.transform,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const integrationSpec = (x: Integration): IntegrationSpec => ({
  subscriber: x.subscriber,
  eventType: x.eventType,
  active: x.active,
  dealerIdField: x.dealerIdField,
  dealerMap: x.dealerMap,
  schema: x.schema,
  transform: x.transform,
});

const findIntegrationRow = (db: Kysely<Database>, subscriber: string, eventType: string) =>
  db.selectFrom('integrations').selectAll().where('username', '=', subscriber).where('event_type', '=', eventType).executeTakeFirst();

export async function getIntegration(db: Kysely<Database>, subscriber: string, eventType: string): Promise<Integration> {
  const row = await findIntegrationRow(db, subscriber, eventType);
  if (!row) throw new AppError('NOT_FOUND', `Subscriber ${subscriber} has no ${eventType} integration`);
  return integrationFromRow(row);
}

/** The latest event a partner sent for an integration, with its status now. */
export interface LastEvent {
  readonly requestId: string;
  readonly receivedAt: string;
  readonly status: string;
  readonly processedAt: string | null;
  readonly errorCodes: string[];
}

export interface IntegrationListItem extends Integration {
  /** null: the partner never sent an event of this type (or none is stored any more). */
  readonly lastEvent: LastEvent | null;
}

/**
 * By (subscriber, event type), optionally one subscriber's; each with its latest event. That
 * costs one probe per row of the page: a correlated subquery that walks the events_subscriber_idx
 * index (username, received_at) backwards to the first event of the type (with one event type,
 * the first row it reads), then one primary-key read of those events. Counting each
 * integration's events of a day instead would read that day's events of every partner listed.
 */
export async function listIntegrations(
  db: Kysely<Database>,
  filter: { subscriber?: string },
  page: PageRequest,
): Promise<Page<IntegrationListItem>> {
  let q = db
    .selectFrom('integrations as i')
    .selectAll('i')
    .select((eb) =>
      eb
        .selectFrom('events as e')
        .select('e.request_id')
        .whereRef('e.username', '=', 'i.username')
        .whereRef('e.event_type', '=', 'i.event_type')
        .orderBy('e.received_at', 'desc')
        .limit(1)
        .as('last_request_id'),
    );
  if (filter.subscriber !== undefined) q = q.where('i.username', '=', filter.subscriber);
  if (page.cursor !== undefined) {
    const [username, eventType] = decodeCursor(page.cursor, 'ss') as [string, string];
    q = q.where((eb) =>
      eb.or([eb('i.username', '>', username), eb.and([eb('i.username', '=', username), eb('i.event_type', '>', eventType)])]),
    );
  }
  const rows = await q
    .orderBy('i.username')
    .orderBy('i.event_type')
    .limit(page.limit + 1)
    .execute();
  const ids = rows.slice(0, page.limit).flatMap((r) => (r.last_request_id ? [r.last_request_id] : []));
  const events =
    ids.length === 0
      ? []
      : await db
          .selectFrom('events')
          .select(['request_id', 'received_at', 'status', 'processed_at', 'errors'])
          .where('request_id', 'in', ids)
          .execute();
  const last = new Map(
    events.map((e): [string, LastEvent] => [
      e.request_id,
      {
        requestId: e.request_id,
        receivedAt: iso(e.received_at),
        status: e.status,
        processedAt: e.processed_at === null ? null : iso(e.processed_at),
        errorCodes: (JSON.parse(e.errors) as { errorCode: string }[]).map((x) => x.errorCode),
      },
    ]),
  );
  return pageOf(
    rows,
    page.limit,
    (r) => ({ ...integrationFromRow(r), lastEvent: last.get(r.last_request_id ?? '') ?? null }),
    (r) => [r.username, r.event_type],
  );
}

export async function createIntegration(db: Kysely<Database>, input: IntegrationSpec): Promise<Integration> {
  if (await findIntegrationRow(db, input.subscriber, input.eventType)) {
    throw new AppError('CONFLICT', `Subscriber ${input.subscriber} already has a ${input.eventType} integration`);
  }
  await write(db, { integrations: [input] }, 'integrations[0]');
  return getIntegration(db, input.subscriber, input.eventType);
}

/** Fields present in `changes` replace the stored ones (null clears schema or transform). */
export async function updateIntegration(
  db: Kysely<Database>,
  subscriber: string,
  eventType: string,
  changes: IntegrationFields,
): Promise<Integration> {
  const current = await getIntegration(db, subscriber, eventType);
  await write(db, { integrations: [{ ...integrationSpec(current), ...changes }] }, 'integrations[0]');
  return getIntegration(db, subscriber, eventType);
}

// ---- audit ----

export interface AuditItem extends Omit<AuditRecord, 'at'> {
  readonly at: string;
}

/** Newest first; the cursor is the last entry's id (ids only grow: new entries never shift pages). */
export async function listAuditEntries(
  db: Kysely<Database>,
  filter: { entity?: string; key?: string; actor?: string },
  page: PageRequest,
): Promise<Page<AuditItem>> {
  const beforeId = page.cursor === undefined ? undefined : (decodeCursor(page.cursor, 'n')[0] as number);
  const records = await listAudit(db, { ...filter, beforeId, limit: page.limit + 1 });
  return pageOf(
    records,
    page.limit,
    (r) => ({ ...r, at: iso(r.at) }),
    (r) => [r.id],
  );
}
