// buildApp(config) assembles the HTTP application: plugins first, then feature routes.
// It does not listen; server.ts does. Tests call it with their own database and use inject().
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import authPlugin from './auth/auth.plugin.js';
import { SubscriberDirectory } from './auth/directory.js';
import type { Config } from './config.js';
import { connect, type Db } from './db/connect.js';
import dbPlugin from './db/db.plugin.js';
import { migrateToLatest } from './db/migrate.js';
import eventRoutes from './events/event.routes.js';
import errorHandling from './http/error-handler.js';
import healthRoutes from './http/health.routes.js';
import openapi from './http/openapi.js';
import { createValidatorCompiler } from './http/validation.js';
import leadRoutes from './leads/lead.routes.js';
import { loggerOptions } from './logger.js';
import { Worker } from './pipeline/worker.js';
import { VERSION } from './version.js';

export interface AppOptions {
  /** An already migrated database; when absent the app opens and migrates config.database. */
  readonly db?: Db;
  /** Logger override (tests pass false). */
  readonly logger?: boolean | ReturnType<typeof loggerOptions>;
  /** Called after the gate durably stored an event (the in-process worker's wake-up). */
  readonly onEventStored?: () => void;
}

export async function openDatabase(config: Config): Promise<Db> {
  const db = connect(config.database);
  const outcome = await migrateToLatest(db.kysely);
  if (outcome.error !== undefined) {
    await db.close();
    throw outcome.error;
  }
  return db;
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const ownsDb = options.db === undefined;
  const db = options.db ?? (await openDatabase(config));
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.logLevel),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: config.maxBodyBytes,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false } },
  });
  app.setValidatorCompiler(createValidatorCompiler());
  // JSON only (415 otherwise); the event gate installs its own raw-bytes parser in its scope.
  app.removeContentTypeParser('text/plain');
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const directory = new SubscriberDirectory(db.kysely);
  await directory.refresh(true);
  directory.start(config.provisioningPollMs, (err) => app.log.warn({ err }, 'provisioning refresh failed'));

  await app.register(errorHandling);
  await app.register(dbPlugin, { db });
  await app.register(authPlugin, { directory });
  await app.register(openapi, { version: VERSION });
  await app.register(healthRoutes);
  await app.register(leadRoutes);
  // The in-process worker; with WORKER_ENABLED=false run `dealer-gateway worker` separately.
  const worker = config.workerEnabled ? new Worker({ db, directory, log: app.log, config: config.worker }) : undefined;
  await app.register(eventRoutes, {
    onStored: () => {
      worker?.wake();
      options.onEventStored?.();
    },
  });

  app.addHook('onReady', async () => {
    worker?.start();
  });
  app.addHook('onClose', async () => {
    await worker?.stop();
    directory.stop();
    if (ownsDb) await db.close();
  });
  return app;
}
