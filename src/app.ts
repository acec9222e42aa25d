// buildApp(config) assembles the HTTP application: plugins first, then feature routes.
// It does not listen; server.ts does. Tests call it with their own database and use inject().
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import adminAuth from './admin/admin.plugin.js';
import adminRoutes from './admin/admin.routes.js';
import { ensureAdminCredential } from './admin/admin-token.js';
import authPlugin from './auth/auth.plugin.js';
import { SubscriberDirectory } from './auth/directory.js';
import { RateLimiter } from './auth/rate-limiter.js';
import consoleRoutes from './console/console.routes.js';
import type { Config, LogLevel, TrustProxy } from './core/config.js';
import { loggerOptions } from './core/logger.js';
import { VERSION } from './core/version.js';
import type { Db } from './db/connect.js';
import { openDatabase } from './db/open.js';
import eventRoutes from './gate/event.routes.js';
import feedRoutes from './gate/feed.routes.js';
import leadRoutes from './gate/lead.routes.js';
import accessLog from './http/access-log.js';
import admission from './http/admission.js';
import errorHandling, { frameworkErrors } from './http/error-handler.js';
import { jsonBodyParser } from './http/json-body.js';
import { lingerOnClose } from './http/lingering-close.js';
import { clientErrorHandler, refuseConnect } from './http/transport-errors.js';
import { createValidatorCompiler } from './http/validation.js';
import healthRoutes from './metrics/health.routes.js';
import metricsPlugin, { createAppMetrics } from './metrics/metrics.plugin.js';
import docsUi from './openapi/docs-ui.js';
import openapi from './openapi/openapi.js';
import rootRoutes from './openapi/root.routes.js';
import { outboundDocumentation } from './outbox/outbound-types.js';
import { openStorage } from './storage/open-storage.js';
import dbPlugin from './storage/storage.plugin.js';

export interface AppOptions {
  /** An already migrated database; when absent the app opens and migrates config.database. */
  readonly db?: Db;
  /** Logger override (tests pass false). */
  readonly logger?: boolean | ReturnType<typeof loggerOptions>;
  /** A logger the caller already made (server.ts, so start-up failures log as JSON too). */
  readonly loggerInstance?: FastifyBaseLogger;
  /** Where the access log's lines go (server.ts: core/logger.ts serviceLogs); the app's logger when absent. */
  readonly accessLogger?: FastifyBaseLogger;
  /** Called after the gate durably stored an event. */
  readonly onEventStored?: () => void;
  /**
   * Where writes and the in-process worker run: 'thread' hands them to the storage thread (the
   * service: the default when the app opens its own database); 'inline' runs them on this
   * thread's connection (the default when the caller passes `db`: the app then uses only it).
   */
  readonly storage?: 'thread' | 'inline';
  /** Called once with the admin token this start generated (ADMIN_TOKEN unset, none stored). */
  readonly onAdminTokenGenerated?: (token: string) => void;
  /** The clock (epoch ms) of password overlap windows and rate limits; tests move it. */
  readonly clock?: () => number;
}

function threadLogLevel(config: Config, options: AppOptions): LogLevel {
  if (options.loggerInstance) return config.logLevel;
  if (options.logger === false) return 'silent';
  if (typeof options.logger === 'object' && typeof options.logger.level === 'string') return options.logger.level as LogLevel;
  return config.logLevel;
}

/**
 * TRUST_PROXY as Fastify's trustProxy. A hop count becomes proxy-addr's (address, hop) test:
 * Fastify itself ignores a bare number (it cannot tell whether the peer is a proxy), so a count
 * is for a service that only its proxies can reach (docs/operations.md).
 */
function fastifyTrustProxy(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return typeof trust === 'boolean' ? trust : [...trust];
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const ownsDb = options.db === undefined;
  const db = options.db ?? (await openDatabase(config));
  const limits = config.http;
  const app = Fastify({
    loggerInstance: options.loggerInstance,
    logger: options.loggerInstance ? undefined : (options.logger ?? loggerOptions(config.logLevel)),
    genReqId: () => randomUUID(),
    // No child logger per request: the few lines a request writes name its reqId themselves, and
    // a child per request cost the gate CPU for lines that are almost never written.
    childLoggerFactory: (logger) => logger,
    // access-log.ts writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    // TRUST_PROXY: request.ip (auth throttles, rate limits) and request.protocol come from
    // X-Forwarded-For / -Proto only when the peer is a trusted proxy (docs/operations.md).
    trustProxy: fastifyTrustProxy(config.trustProxy),
    bodyLimit: config.maxBodyBytes,
    // Slow clients (docs/operations.md, "Limits and timeouts"): Node answers 408 through
    // clientErrorHandler once headers or the whole request take too long, checked every second.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: 1000, requireHostHeader: false },
    // admission.ts answers requests that arrive while closing, in our envelopes.
    return503OnClosing: false,
    // Path parameters are bounded by their schemas (a clear 400), not by the router's 100.
    routerOptions: { maxParamLength: 16 * 1024 },
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { coerceTypes: false } },
  });
  app.server.maxConnections = limits.maxConnections;
  // A client may half-close its side once its request is sent (RFC 9112 §9.6) and still read the
  // answer. Node's default aborts the request in progress instead: the gate could store an event
  // and never acknowledge it to a client that was still listening (found by test/fuzz).
  (app.server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
  // Answers given before a body was read (413, 408, shed 503) reach the client (lingering-close.ts).
  lingerOnClose(app.server);
  let dropped = 0;
  app.server.on('drop', () => {
    // Logged at most once a second with the count, so a storm cannot flood the log.
    if (dropped++ === 0) {
      setTimeout(() => {
        app.log.warn({ dropped, maxConnections: limits.maxConnections }, 'connections refused: MAX_CONNECTIONS reached');
        dropped = 0;
      }, 1000).unref();
    }
  });
  // An Expect other than 100-continue: serve the request as if it were absent (RFC 9110 allows
  // it) instead of Node's bare 417, so every answer goes through our handlers and envelopes.
  app.server.on('checkExpectation', (req, res) => app.server.emit('request', req, res));
  // CONNECT never reaches the router: answer 405 in our envelope instead of Node's silent close.
  app.server.on('connect', refuseConnect(app));
  app.setValidatorCompiler(createValidatorCompiler());
  // JSON only (415 otherwise), strictly UTF-8; the event gate installs its own raw-bytes parser.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, jsonBodyParser(app));

  const directory = new SubscriberDirectory(db.kysely, config.authThrottle, options.clock);
  await directory.refresh(true);
  directory.start(config.provisioningPollMs, (err) => app.log.warn({ err }, 'provisioning refresh failed'));

  await app.register(errorHandling);
  await app.register(admission, {
    maxInFlight: limits.maxInFlight,
    maxInFlightPerClient: limits.maxInFlightPerClient,
    bodyIdleTimeoutMs: limits.bodyIdleTimeoutMs,
    // After the route's authentication hook: a partner's share follows its credential wherever it
    // connects from; anyone else (admin, console sign-in, unknown routes) is one client per address.
    clientOf: (request) => (request.principal ? `subscriber:${request.principal.username}` : `address:${request.ip}`),
  });
  const metrics = createAppMetrics(config, db.kysely, app.log);
  const { storage, worker, deliverer } = await openStorage({
    mode: options.storage ?? (options.db ? 'inline' : 'thread'),
    config,
    db,
    directory,
    threadLogLevel: threadLogLevel(config, options),
    log: app.log,
    observer: {
      countBatch: metrics.pipeline.countBatch,
      countCommit: metrics.pipeline.countCommit,
      applyStats: metrics.pipeline.apply,
      countDelivery: metrics.pipeline.countDelivery,
      countHealth: metrics.pipeline.countHealth,
      followWorker: (worker) => metrics.heartbeat.follow(worker),
    },
  });
  await app.register(dbPlugin, { db, storage });
  // Rate limits: local buckets; on PostgreSQL reconciled across nodes every 250 ms (rate-limiter.ts).
  const rateLimiter = new RateLimiter(options.clock, db.config.dialect === 'postgres' ? db.kysely : undefined);
  rateLimiter.start((err) => app.log.warn({ err }, 'rate limit reconciliation failed'));
  await app.register(authPlugin, { directory, onFailure: metrics.requests.authFailed, rateLimiter });
  const admin = await ensureAdminCredential(db.kysely, config.adminToken);
  if (admin.generated !== undefined) options.onAdminTokenGenerated?.(admin.generated);
  await app.register(adminAuth, { credential: admin.credential, throttle: config.authThrottle });
  await app.register(accessLog, { logger: options.accessLogger, onResponse: metrics.requests.observe });
  await app.register(openapi, { version: VERSION, extra: outboundDocumentation() });
  await app.register(docsUi);
  await app.register(metricsPlugin, { metrics });
  await app.register(healthRoutes, { heartbeat: metrics.heartbeat });
  await app.register(rootRoutes);
  await app.register(leadRoutes);
  // The in-process worker runs in the storage thread (or inline); with WORKER_ENABLED=false,
  // run `dealer-gateway worker` processes separately.
  await app.register(eventRoutes, { onStored: options.onEventStored });
  await app.register(feedRoutes, { throttle: config.authThrottle });
  await app.register(adminRoutes, { delivery: config.delivery });
  await app.register(consoleRoutes);

  app.addHook('onReady', async () => {
    worker?.start();
    deliverer?.start();
  });
  app.addHook('onClose', async () => {
    await worker?.stop();
    await deliverer?.stop();
    await storage.close();
    directory.stop();
    await rateLimiter.stop();
    if (ownsDb) await db.close();
  });
  return app;
}
