import { rotateAdminToken } from '../admin/admin-token.js';
import { loadConfig } from '../core/config.js';
import { connect } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';
import type { Command } from './command.js';
import { parseCommandArgs, UsageError } from './command.js';
import { announceDatabase } from './database.js';

const help = `Usage: dealer-gateway admin-token --rotate

Generates a new admin token, stores only its hash in the database named by DATABASE_URL and
prints the token once. The old token stops working when each running node restarts (a node
reads the stored hash at start). Has no effect on nodes that set ADMIN_TOKEN, which wins.`;

export const adminTokenCommand: Command = {
  name: 'admin-token',
  summary: 'replace the generated admin token (prints the new one once)',
  help,
  async run(args) {
    const { values } = parseCommandArgs(args, { rotate: { type: 'boolean' } }, help);
    if (!values.rotate) throw new UsageError('expected --rotate');
    const config = loadConfig();
    announceDatabase(config);
    const db = connect(config.database);
    try {
      const outcome = await migrateToLatest(db.kysely);
      if (outcome.error !== undefined) throw outcome.error;
      const token = await rotateAdminToken(db.kysely);
      process.stdout.write(`${token}\n`);
      if (config.adminToken !== null) process.stderr.write('note: ADMIN_TOKEN is set here; nodes that set it keep using it\n');
      return 0;
    } finally {
      await db.close();
    }
  },
};
