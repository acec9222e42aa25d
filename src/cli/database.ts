// How CLI commands open the database named by DATABASE_URL: they say which one on stderr first
// (stdout stays clean for --json). Commands that change data open it as the service does,
// applying pending migrations. Read-only commands change nothing: they refuse to create a new
// SQLite file, never migrate, and refuse a schema this version does not match (behind: pending
// migrations; ahead: migrations of a newer version), since their queries assume this version's.
import { existsSync } from 'node:fs';
import pino from 'pino';
import type { Config } from '../core/config.js';
import { loggerOptions } from '../core/logger.js';
import { VERSION } from '../core/version.js';
import { connect, type Db } from '../db/connect.js';
import { describeDatabase, formatDatabase } from '../db/describe.js';
import { type SchemaState, schemaState } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';

export interface OpenOptions {
  /**
   * The command only reads: a missing SQLite file is an error, not a new empty database, and
   * the schema is checked, not migrated.
   */
  readonly readOnly?: boolean;
}

/** Prints `database: …` on stderr. */
export function announceDatabase(config: Config): void {
  process.stderr.write(`database: ${formatDatabase(describeDatabase(config.database))}\n`);
}

const list = (names: readonly string[]) => `${names.length} migration${names.length === 1 ? '' : 's'} (${names.join(', ')})`;

/** One line saying why a read-only command cannot use this schema, or undefined when it matches. */
function schemaMismatch(state: SchemaState): string | undefined {
  if (state.unknown.length > 0) {
    return (
      `the database schema is ahead of dealer-gateway ${VERSION}: it has ${list(state.unknown)} this version does not know, ` +
      'applied by a newer version; run this command with that version (its "dealer-gateway migrate" applied them, ' +
      'and this version cannot undo them)'
    );
  }
  if (state.pending.length === 0) return undefined;
  const situation = state.empty
    ? `the database has no dealer-gateway schema yet (${list(state.pending)} to apply)`
    : `the database schema is behind dealer-gateway ${VERSION}: ${list(state.pending)} not applied yet`;
  return `${situation}; run "dealer-gateway migrate" first (this command only reads and does not migrate)`;
}

/** Opens without migrating, then checks that the schema is this version's. */
async function openReadOnly(config: Config): Promise<Db> {
  // The same pool logger as the service's (openDatabase).
  const db = connect(config.database, { log: pino(loggerOptions(config.logLevel)).child({ component: 'pg-pool' }) });
  let mismatch: string | undefined;
  try {
    mismatch = schemaMismatch(await schemaState(db.kysely));
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  if (mismatch !== undefined) {
    await db.close();
    throw new SchemaMismatchError(mismatch);
  }
  return db;
}

/** The schema does not match this version: the message is the whole explanation. */
class SchemaMismatchError extends Error {}

/** Announces, checks and opens the database (migrating it, unless read-only); errors name DATABASE_URL. */
export async function openCliDatabase(config: Config, options: OpenOptions = {}): Promise<Db> {
  announceDatabase(config);
  const location = describeDatabase(config.database);
  if (options.readOnly && location.kind === 'sqlite' && location.path !== ':memory:' && !existsSync(location.path)) {
    throw new Error(`no SQLite database at ${location.path}: set DATABASE_URL to an existing database (this command does not create one)`);
  }
  try {
    return options.readOnly ? await openReadOnly(config) : await openDatabase(config);
  } catch (err) {
    if (location.kind !== 'postgres' || err instanceof SchemaMismatchError) throw err;
    const reason = (err instanceof Error && err.message) || (err as { code?: string }).code || String(err);
    throw new Error(
      `cannot reach the PostgreSQL database ${location.host}:${location.port}/${location.name} named by DATABASE_URL: ${reason}`,
    );
  }
}
