import { loadConfig } from '../core/config.js';
import { connect } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';
import type { Command } from './command.js';
import { parseCommandArgs } from './command.js';
import { announceDatabase } from './database.js';

const help = `Usage: dealer-gateway migrate

Applies pending schema migrations to the database named by DATABASE_URL and exits.
(The service also migrates at start; this is for deploy pipelines.)`;

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply pending database migrations',
  help,
  async run(args) {
    parseCommandArgs(args, {}, help);
    const config = loadConfig();
    announceDatabase(config);
    const db = connect(config.database);
    try {
      const outcome = await migrateToLatest(db.kysely);
      for (const name of outcome.applied) process.stdout.write(`applied ${name}\n`);
      if (outcome.error !== undefined) throw outcome.error;
      if (outcome.applied.length === 0) process.stdout.write('database is up to date\n');
      return 0;
    } finally {
      await db.close();
    }
  },
};
