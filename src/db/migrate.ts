// Schema migrations, bundled as modules (no directory scanning), applied in name order.
import { type Kysely, type Migration, type MigrationResult, Migrator } from 'kysely';
import * as m0001 from './migrations/0001_foundation.js';
import * as m0002 from './migrations/0002_events.js';
import * as m0003 from './migrations/0003_event_bodies.js';
import * as m0004 from './migrations/0004_operations.js';
import * as m0005 from './migrations/0005_credentials.js';
import type { Database } from './schema.js';

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_foundation': m0001,
  '0002_events': m0002,
  '0003_event_bodies': m0003,
  '0004_operations': m0004,
  '0005_credentials': m0005,
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
