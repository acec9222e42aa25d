// Runs the service: build the app, listen, and stop gracefully on SIGINT/SIGTERM. Nothing else.
//
// Exit codes (docs/operations.md): 0 after a graceful stop; 1 when the service cannot start
// (database, port in use, bad config) or a shutdown outlasts SHUTDOWN_TIMEOUT_MS.
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { describeDatabase } from './db/describe.js';
import { loggerOptions } from './logger.js';
import { VERSION } from './version.js';

/** host:port as bound (PORT=0 picks a free port), from the listening socket. */
function boundAddress(app: FastifyInstance, config: Config): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return address ?? `${config.host}:${config.port}`;
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}

/**
 * One info line saying what started (version, database without credentials, worker, address),
 * and a warning when no partner (subscriber) is provisioned: every request would get a 401.
 */
async function logStartup(app: FastifyInstance, config: Config, log: Logger): Promise<void> {
  const listen = boundAddress(app, config);
  log.info(
    { version: VERSION, database: describeDatabase(config.database), worker: config.workerEnabled, listen },
    `dealer-gateway ${VERSION} listening on ${listen}`,
  );
  try {
    const row = await app.db
      .selectFrom('subscribers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    if (Number(row?.n ?? 0) === 0)
      log.warn('no partner (subscriber) is provisioned: every partner request gets 401; see "dealer-gateway apply"');
  } catch (err) {
    log.warn({ err }, 'could not count the provisioned partners');
  }
}

/**
 * Graceful stop: new requests get a 503 (load-shedding.ts), in-flight requests finish, the
 * worker hands back its claims, the database closes — or the process exits 1 past the deadline.
 */
function stopOnSignals(app: FastifyInstance, log: Logger, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // A second signal while draining is ignored: the deadline below bounds the wait anyway.
      process.on('SIGINT', () => {});
      process.on('SIGTERM', () => {});
      log.info({ signal }, 'shutting down');
      const deadline = setTimeout(() => {
        log.error({ timeoutMs }, 'graceful shutdown timed out');
        resolve(1);
      }, timeoutMs);
      app.close().then(
        () => {
          clearTimeout(deadline);
          log.info('stopped');
          resolve(0);
        },
        (err: unknown) => {
          clearTimeout(deadline);
          log.error({ err }, 'error during shutdown');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Starts the service and resolves with the process exit code once it has stopped. */
export async function runServer(config: Config): Promise<number> {
  const log = pino(loggerOptions(config.logLevel));
  let app: FastifyInstance;
  try {
    app = await buildApp(config, {
      loggerInstance: log,
      // Shown once, on stderr and never in the JSON log (log lines are shipped and kept).
      onAdminTokenGenerated: (token) => {
        process.stderr.write(
          `\nAdmin token (generated on first start; only its hash is stored, so it is shown this once):\n\n  ${token}\n\n` +
            'Use it as "Authorization: Bearer <token>" on /admin/v1, or set ADMIN_TOKEN to choose your own.\n\n',
        );
        log.warn('no ADMIN_TOKEN set: generated an admin token and printed it once on stderr');
      },
    });
  } catch (err) {
    log.fatal({ err }, 'cannot start: the database could not be opened or migrated');
    return 1;
  }
  const stopped = stopOnSignals(app, log, config.http.shutdownTimeoutMs);
  try {
    await app.listen({ port: config.port, host: config.host, backlog: config.http.listenBacklog });
  } catch (err) {
    log.fatal({ err, host: config.host, port: config.port }, `cannot listen on ${config.host}:${config.port}`);
    await app.close().catch((closeErr: unknown) => log.error({ err: closeErr }, 'error while closing after a failed start'));
    return 1;
  }
  await logStartup(app, config, log);
  return stopped;
}
