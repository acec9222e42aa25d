import { loadConfig } from '../config.js';
import { startServer } from '../server.js';
import type { Command } from './command.js';
import { parseCommandArgs } from './command.js';

const help = `Usage: dealer-gateway serve

Runs the HTTP service (and, unless WORKER_ENABLED=false, the event pipeline worker).
Applies pending database migrations first. Stops gracefully on SIGINT/SIGTERM.

Environment: PORT (8080), HOST (127.0.0.1), DATABASE_URL (SQLite ./data/dealer-gateway.db),
LOG_LEVEL (info), MAX_BODY_BYTES (1048576), PROVISIONING_POLL_MS (500), WORKER_ENABLED (true),
and the WORKER_* settings listed by "dealer-gateway worker --help".`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the HTTP service',
  help,
  async run(args) {
    parseCommandArgs(args, {}, help);
    await startServer(loadConfig());
    // Keep running until a signal; server.ts exits the process after a graceful shutdown.
    await new Promise<never>(() => {});
    return 0;
  },
};
