// How CLI commands open the database named by DATABASE_URL: they say which one on stderr first
// (stdout stays clean for --json), and read-only commands refuse to create a new SQLite file.
import { existsSync } from 'node:fs';
import { openDatabase } from '../app.js';
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import { describeDatabase, formatDatabase } from '../db/describe.js';

export interface OpenOptions {
  /** The command only reads: a missing SQLite file is an error, not a new empty database. */
  readonly readOnly?: boolean;
}

/** Prints `database: …` on stderr. */
export function announceDatabase(config: Config): void {
  process.stderr.write(`database: ${formatDatabase(describeDatabase(config.database))}\n`);
}

/** Announces, checks and opens (migrating) the database; errors name DATABASE_URL. */
export async function openCliDatabase(config: Config, options: OpenOptions = {}): Promise<Db> {
  announceDatabase(config);
  const location = describeDatabase(config.database);
  if (options.readOnly && location.kind === 'sqlite' && location.path !== ':memory:' && !existsSync(location.path)) {
    throw new Error(`no SQLite database at ${location.path}: set DATABASE_URL to an existing database (this command does not create one)`);
  }
  try {
    return await openDatabase(config);
  } catch (err) {
    if (location.kind !== 'postgres') throw err;
    const reason = (err instanceof Error && err.message) || (err as { code?: string }).code || String(err);
    throw new Error(
      `cannot reach the PostgreSQL database ${location.host}:${location.port}/${location.name} named by DATABASE_URL: ${reason}`,
    );
  }
}
