// Schema migrations, bundled as modules (no directory scanning), applied in name order.
import { DEFAULT_MIGRATION_TABLE, type Kysely, type Migration, type MigrationResult, Migrator } from 'kysely';
import * as m0001 from './migrations/0001_foundation.js';
import * as m0002 from './migrations/0002_events.js';
import * as m0003 from './migrations/0003_event_bodies.js';
import * as m0004 from './migrations/0004_operations.js';
import * as m0005 from './migrations/0005_credentials.js';
import * as m0006 from './migrations/0006_search_backlog.js';
import * as m0007 from './migrations/0007_rejections_by_time.js';
import * as m0008 from './migrations/0008_delivery.js';
import * as m0009 from './migrations/0009_lead_formats.js';
import type { Database } from './schema.js';

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_foundation': m0001,
  '0002_events': m0002,
  '0003_event_bodies': m0003,
  '0004_operations': m0004,
  '0005_credentials': m0005,
  '0006_search_backlog': m0006,
  '0007_rejections_by_time': m0007,
  '0008_delivery': m0008,
  '0009_lead_formats': m0009,
};

export interface MigrateOutcome {
  readonly applied: readonly string[];
  readonly error?: unknown;
}

export async function migrateToLatest(db: Kysely<Database>): Promise<MigrateOutcome> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...MIGRATIONS }) } });
  const { error, results } = await migrator.migrateToLatest();
  const applied = (results ?? []).filter((r: MigrationResult) => r.status === 'Success').map((r) => r.migrationName);
  return error === undefined ? { applied } : { applied, error };
}

/** How a database's schema compares with this version's migrations. */
export interface SchemaState {
  /** Migrations this version has that the database has not applied, in order. */
  readonly pending: readonly string[];
  /** Migrations the database has applied that this version does not know (a newer version's). */
  readonly unknown: readonly string[];
  /** No migration at all has been applied: the database has no dealer-gateway schema yet. */
  readonly empty: boolean;
}

/**
 * Compares the migrations applied to the database with this version's, without changing
 * anything (Kysely's migrateToLatest would create its tables and apply what is pending): for
 * commands that only read, which must not migrate a database behind their back.
 */
export async function schemaState(db: Kysely<Database>): Promise<SchemaState> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...MIGRATIONS }) } });
  // getMigrations() only reads: each known migration with executedAt when it was applied.
  const known = await migrator.getMigrations();
  const pending = known.filter((m) => m.executedAt === undefined).map((m) => m.name);
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === DEFAULT_MIGRATION_TABLE)) return { pending, unknown: [], empty: true };
  const applied = await db
    .withTables<{ kysely_migration: { name: string } }>()
    .selectFrom('kysely_migration')
    .select('name')
    .orderBy('name')
    .execute();
  const unknown = applied.map((r) => r.name).filter((name) => !Object.hasOwn(MIGRATIONS, name));
  return { pending, unknown, empty: applied.length === 0 };
}
