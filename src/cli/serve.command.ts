import { loadConfig } from '../core/config.js';
import { runServer } from '../server.js';
import type { Command } from './command.js';
import { parseCommandArgs } from './command.js';

const help = `Usage: dealer-gateway serve

Runs the HTTP service (and, unless WORKER_ENABLED=false, the event pipeline worker).
Applies pending database migrations first. Stops gracefully on SIGINT/SIGTERM: new requests
get 503, in-flight ones finish, the worker hands back its claims; exit 0, or 1 past
SHUTDOWN_TIMEOUT_MS (10000). Exits 1 at once if it cannot open the database or listen.

Environment: PORT (8080), HOST (127.0.0.1), DATABASE_URL (SQLite ./data/dealer-gateway.db),
LOG_LEVEL (info), MAX_BODY_BYTES (1048576), PROVISIONING_POLL_MS (500), WORKER_ENABLED (true),
HEADERS_TIMEOUT_MS (10000), REQUEST_TIMEOUT_MS (30000), KEEP_ALIVE_TIMEOUT_MS (5000),
MAX_CONNECTIONS (4096), MAX_IN_FLIGHT (256), MAX_IN_FLIGHT_PER_CLIENT (a quarter of MAX_IN_FLIGHT),
BODY_IDLE_TIMEOUT_MS (5000 or REQUEST_TIMEOUT_MS), LISTEN_BACKLOG (511), SHUTDOWN_TIMEOUT_MS (10000),
AUTH_MAX_FAILURES_PER_USERNAME (10), AUTH_MAX_FAILURES_PER_ADDRESS (30),
AUTH_FAILURE_WINDOW_MS (60000), PG_POOL_SIZE (10), TRUST_PROXY (false),
ADMIN_TOKEN (unset: generated on first start, printed once), RETENTION_BODY_DAYS (30),
RETENTION_IDEMPOTENCY_DAYS (7), RETENTION_INTERVAL_MS (60000), and the WORKER_*, DELIVERY_* and SMTP_*
settings listed by "dealer-gateway worker --help". Every one is described in docs/operations.md.`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the HTTP service',
  help,
  async run(args) {
    parseCommandArgs(args, {}, help);
    const code = await runServer(loadConfig());
    // Exit now rather than when the event loop drains: a stray handle must not keep a stopped
    // service alive (logs are written synchronously, so nothing is lost).
    process.exit(code);
  },
};
