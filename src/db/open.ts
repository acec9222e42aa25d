// Opening the database as the service and the writing CLI commands do: connect, then apply the
// pending migrations. (Read-only commands open it without migrating: src/cli/database.ts.)
import pino from 'pino';
import type { Config } from '../core/config.js';
import { loggerOptions } from '../core/logger.js';
import { connect, type Db } from './connect.js';
import { migrateToLatest } from './migrate.js';

export async function openDatabase(config: Config): Promise<Db> {
  // Its own logger: the app's does not exist yet, and a pool outlives no app anyway.
  const db = connect(config.database, { log: pino(loggerOptions(config.logLevel)).child({ component: 'pg-pool' }) });
  const outcome = await migrateToLatest(db.kysely);
  if (outcome.error !== undefined) {
    await db.close();
    throw outcome.error;
  }
  return db;
}
