// Reads and writes every provisioned resource of the admin API shares. Writes never touch a
// table: each builds a partial provisioning document and runs it through `applyProvisioning`, so
// the API and `apply` share one set of rules, one transaction shape and one audit trail, and
// cannot diverge. A partial document replaces whole rows (absent optional fields mean null), so a
// change reads the current state first and sends it back with the requested changes on top.
import type { Kysely, Selectable } from 'kysely';
import { AppError, type ErrorCode } from '../../core/errors.js';
import type { CustomersTable, Database, DealersTable, VehiclesTable } from '../../db/schema.js';
import type { ProvisioningFile } from '../../provisioning/provisioning.schema.js';
import { applyProvisioning } from '../../provisioning/provisioning.service.js';
import { type Problem, ProvisioningError } from '../../provisioning/provisioning.validate.js';

/** Who the audit log names for changes made here. */
const ADMIN_ACTOR = 'admin-api';

/** What the shared reads and writes need to know of one resource, found by a key `K`. */
export interface Resource<K, Row, T> {
  /** Its stored row (with whatever else it shows, e.g. a subscriber's grants), or undefined. */
  readonly find: (db: Kysely<Database>, key: K) => Promise<Row | undefined>;
  /** What the API shows of a row. */
  readonly toItem: (row: Row) => T;
  /** The 404 for a key nothing is stored under. */
  readonly notFound: (key: K) => AppError;
  /** Where its entry sits in the documents it writes: apply's problems are named from there. */
  readonly entryPath: string;
}

/** The usual 404: `Customer c-9 does not exist`. */
export const missing =
  (noun: string, code: ErrorCode = 'NOT_FOUND') =>
  (key: string): AppError =>
    new AppError(code, `${noun} ${key} does not exist`);

type Finder<Row> = (db: Kysely<Database>, uuid: string) => Promise<Row | undefined>;

/** How dealers, customers and vehicles are found: by their UUID. */
export function rowByUuid(table: 'dealers'): Finder<Selectable<DealersTable>>;
export function rowByUuid(table: 'customers'): Finder<Selectable<CustomersTable>>;
export function rowByUuid(table: 'vehicles'): Finder<Selectable<VehiclesTable>>;
export function rowByUuid(table: 'dealers' | 'customers' | 'vehicles'): Finder<unknown> {
  return (db, uuid) => db.selectFrom(table).selectAll().where('uuid', '=', uuid).executeTakeFirst();
}

async function findOrThrow<K, Row, T>(db: Kysely<Database>, resource: Resource<K, Row, T>, key: K): Promise<Row> {
  const row = await resource.find(db, key);
  if (!row) throw resource.notFound(key);
  return row;
}

/** The resource stored under `key`, or its 404. */
export async function getOne<K, Row, T>(db: Kysely<Database>, resource: Resource<K, Row, T>, key: K): Promise<T> {
  return resource.toItem(await findOrThrow(db, resource, key));
}

/** Writes `doc`, which creates the resource `key` names, unless that key is taken: 409 `taken`. */
export async function createOne<K, Row, T>(
  db: Kysely<Database>,
  resource: Resource<K, Row, T>,
  key: K,
  doc: ProvisioningFile,
  taken: (existing: Row) => string,
): Promise<T> {
  const existing = await resource.find(db, key);
  if (existing) throw new AppError('CONFLICT', taken(existing));
  await applyAsAdmin(db, doc, resource.entryPath);
  return getOne(db, resource, key);
}

/** Writes the document `change` builds from the current state of the resource (404 if none). */
export async function changeOne<K, Row, T>(
  db: Kysely<Database>,
  resource: Resource<K, Row, T>,
  key: K,
  change: (current: T, row: Row) => ProvisioningFile | Promise<ProvisioningFile>,
): Promise<T> {
  const row = await findOrThrow(db, resource, key);
  await applyAsAdmin(db, await change(resource.toItem(row), row), resource.entryPath);
  return getOne(db, resource, key);
}

/** `customers[0].vehicles[0].vin` → `vin` when the caller's fields sit under `entryPath`. */
function describeProblems(problems: readonly Problem[], entryPath: string): string {
  return problems
    .map((p) => {
      const path = p.path.startsWith(entryPath) ? p.path.slice(entryPath.length).replace(/^\./, '') : p.path;
      return path === '' ? p.message : `${path}: ${p.message}`;
    })
    .join('; ');
}

/** Applies a partial document as the admin API; apply's problems become one 400 naming each. */
async function applyAsAdmin(db: Kysely<Database>, doc: ProvisioningFile, entryPath: string): Promise<void> {
  try {
    await applyProvisioning(db, doc, { actor: ADMIN_ACTOR });
  } catch (err) {
    if (err instanceof ProvisioningError) throw new AppError('VALIDATION_FAILED', describeProblems(err.problems, entryPath));
    throw err;
  }
}
