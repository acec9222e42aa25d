import pino from 'pino';
import { SubscriberDirectory } from '../auth/directory.js';
import { loadConfig } from '../core/config.js';
import { loggerOptions } from '../core/logger.js';
import { VERSION } from '../core/version.js';
import { listenForEvents } from '../db/event-notifications.js';
import { Deliverer } from '../delivery/deliverer.js';
import { ThreadAssessor } from '../pipeline/assessor.js';
import { Worker } from '../pipeline/worker.js';
import type { Command } from './command.js';
import { parseCommandArgs } from './command.js';
import { openCliDatabase } from './database.js';

const help = `Usage: dealer-gateway worker

Runs the event pipeline worker on its own, without HTTP: claims received events in batches,
validates and transforms them per integration, and stores the outcome. Run any number of them
against one PostgreSQL database (claims use FOR UPDATE SKIP LOCKED; stored events wake them
through LISTEN/NOTIFY, WORKER_POLL_MS is the fallback); with SQLite, one process writes at a time
and workers poll. Pair with WORKER_ENABLED=false on the API processes if you want the API to
only ingest. Stops gracefully on SIGINT/SIGTERM (unfinished claims return to the queue).

Environment: DATABASE_URL, LOG_LEVEL, WORKER_BATCH_SIZE (250), WORKER_POLL_MS (1000),
WORKER_LEASE_MS (30000), WORKER_MAX_ATTEMPTS (10), WORKER_CONCURRENCY (4),
WORKER_EVALUATION_THREAD (true here; false inside serve), PROVISIONING_POLL_MS (500),
RETENTION_BODY_DAYS (30), RETENTION_IDEMPOTENCY_DAYS (7), RETENTION_INTERVAL_MS (60000): the
worker also purges old bodies and idempotency keys (docs/operations.md, "Retention").
DELIVERY_ENABLED (true): it also sends the outbox's messages to destinations, with
DELIVERY_CONCURRENCY (64), DELIVERY_CONCURRENCY_PER_DESTINATION (16), DELIVERY_TIMEOUT_MS (15000),
DELIVERY_POLL_MS (1000), DELIVERY_ALLOW_PRIVATE_NETWORKS (none), DELIVERY_DISABLE_AFTER_DAYS (5),
DELIVERY_SECRET_OVERLAP_HOURS (24); email destinations through SMTP_URL (none), SMTP_ALLOW_INSECURE
(false), SMTP_FROM (dealer-gateway@localhost) (docs/operations.md, "Delivery").`;

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run the event pipeline worker as its own process',
  help,
  async run(args) {
    parseCommandArgs(args, {}, help);
    const config = loadConfig();
    const log = pino(loggerOptions(config.logLevel));
    const db = await openCliDatabase(config);
    const directory = new SubscriberDirectory(db.kysely);
    await directory.refresh(true);
    directory.start(config.provisioningPollMs, (err) => log.warn({ err }, 'provisioning refresh failed'));
    // On by default: a worker process has a core to spare for assessment while it runs SQL
    // (drain of schema + JSONata events: 5 000 → 7 300 events/s on SQLite, docs/performance.md).
    const assessor = config.worker.evaluationThread !== false ? await ThreadAssessor.start({ database: config.database }, log) : undefined;
    // The sender too, unless DELIVERY_ENABLED=false: on PostgreSQL any number of processes share
    // the outbox as they share the events.
    const deliverer = config.delivery.enabled
      ? new Deliverer({ db, config: config.delivery, log, userAgent: `dealer-gateway/${VERSION}` })
      : undefined;
    const worker = new Worker({ db, directory, log, config: config.worker, assessor, onBatch: () => deliverer?.wakeIfEnqueued() });
    worker.start();
    deliverer?.start();
    const notifications = listenForEvents(config.database, log, () => worker.wake());
    log.info({ workerId: worker.id }, 'worker started');
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    log.info({ signal }, 'worker stopping');
    await notifications.close();
    await worker.stop();
    await deliverer?.stop();
    directory.stop();
    await db.close();
    return 0;
  },
};
