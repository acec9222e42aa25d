// Configuration is read from the environment exactly once, at start, into a frozen typed object.
// The variable names are a contract: deployment tooling outside this repository sets them.
import { isIP } from 'node:net';
import { resolve } from 'node:path';

export type DatabaseConfig =
  | { readonly dialect: 'sqlite'; readonly path: string }
  /** poolSize: PG_POOL_SIZE, the most connections each pool opens (one pool per thread). */
  | { readonly dialect: 'postgres'; readonly url: string; readonly poolSize?: number };

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: DatabaseConfig;
  readonly logLevel: LogLevel;
  /** Largest request body accepted by the event gate, in bytes. */
  readonly maxBodyBytes: number;
  /** How often a running service checks whether `apply` changed the provisioning data. */
  readonly provisioningPollMs: number;
  /** Run the event pipeline worker inside the API process (`WORKER_ENABLED`). */
  readonly workerEnabled: boolean;
  readonly worker: WorkerConfig;
  readonly http: HttpLimits;
  readonly authThrottle: AuthThrottleConfig;
  /**
   * ADMIN_TOKEN: the Bearer token of the admin API and console. Unset: a token generated on
   * first start (its hash stored, the token printed once) is used.
   */
  readonly adminToken: string | null;
  /** TRUST_PROXY: whose X-Forwarded-For to believe for the client address (Fastify's trustProxy). */
  readonly trustProxy: TrustProxy;
  /** Sending the outbox's messages to destinations (docs/operations.md, "Delivery"). */
  readonly delivery: DeliveryConfig;
}

export interface DeliveryConfig {
  /** DELIVERY_ENABLED: this process sends outbox messages (default true; `serve` and `worker`). */
  readonly enabled: boolean;
  /** DELIVERY_CONCURRENCY: messages in flight at once in this process (default 64). */
  readonly concurrency: number;
  /** DELIVERY_CONCURRENCY_PER_DESTINATION: of those, to one destination (default 16; its pool's connections). */
  readonly perDestination: number;
  /** DELIVERY_TIMEOUT_MS: one attempt, connect to the end of the answer (default 15 000). */
  readonly timeoutMs: number;
  /** DELIVERY_POLL_MS: how often an idle sender looks for due messages (default 1000; commits here wake it at once). */
  readonly pollMs: number;
  /** DELIVERY_ALLOW_PRIVATE_NETWORKS: addresses/CIDRs destinations may reach although private (default none). */
  readonly allowPrivateNetworks: readonly string[];
  /** DELIVERY_DISABLE_AFTER_DAYS: a destination failing continuously this long is disabled (default 5). */
  readonly disableAfterDays: number;
  /** DELIVERY_SECRET_OVERLAP_HOURS: after a rotation, the old secret also signs this long (default 24). */
  readonly secretOverlapHours: number;
  /** SMTP_URL: smtp:// or smtps:// (credentials in the URL) for email destinations; null: they cannot send (default). */
  readonly smtpUrl: string | null;
  /** SMTP_ALLOW_INSECURE: plain SMTP when the server offers no STARTTLS, certificates not verified (default false: STARTTLS and a valid certificate required). */
  readonly smtpAllowInsecure: boolean;
  /** SMTP_FROM: the From address of lead e-mails (default dealer-gateway@localhost). */
  readonly smtpFrom: string;
}

/**
 * false: the TCP peer is the client. true: X-Forwarded-For from any hop. A number: that many
 * proxy hops. A list: only these proxy addresses / CIDRs (or loopback, linklocal, uniquelocal).
 */
export type TrustProxy = boolean | number | readonly string[];

/** What one slow or greedy client may hold; see docs/operations.md ("Limits and timeouts"). */
export interface HttpLimits {
  /** Time to receive a request's headers (`HEADERS_TIMEOUT_MS`); then 408 and the connection closes. */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request, body included (`REQUEST_TIMEOUT_MS`). */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (`KEEP_ALIVE_TIMEOUT_MS`). */
  readonly keepAliveTimeoutMs: number;
  /** Open connections beyond which new ones are closed at once (`MAX_CONNECTIONS`). */
  readonly maxConnections: number;
  /** Requests being worked on at once; beyond it a fast 503 with Retry-After (`MAX_IN_FLIGHT`). */
  readonly maxInFlight: number;
  /**
   * The share of MAX_IN_FLIGHT one client (a subscriber, or an address before authentication)
   * may hold; beyond it 429 (`MAX_IN_FLIGHT_PER_CLIENT`, default a quarter of MAX_IN_FLIGHT).
   */
  readonly maxInFlightPerClient: number;
  /** Longest pause between two parts of a request body; then 408 (`BODY_IDLE_TIMEOUT_MS`). */
  readonly bodyIdleTimeoutMs: number;
  /** The listen backlog: connections the kernel queues before we accept them (`LISTEN_BACKLOG`). */
  readonly listenBacklog: number;
  /** Longest a graceful shutdown may take before the process gives up and exits 1 (`SHUTDOWN_TIMEOUT_MS`). */
  readonly shutdownTimeoutMs: number;
}

/** Failed-authentication throttling; see docs/api.md ("Authentication failures and lockout"). */
export interface AuthThrottleConfig {
  /** Failures one username may see in a window before it is locked for the rest of it (`AUTH_MAX_FAILURES_PER_USERNAME`). */
  readonly maxFailuresPerUsername: number;
  /** Failures one client address may cause in a window (`AUTH_MAX_FAILURES_PER_ADDRESS`). */
  readonly maxFailuresPerAddress: number;
  /** The window, and so the longest lockout (`AUTH_FAILURE_WINDOW_MS`). */
  readonly windowMs: number;
}

export interface WorkerConfig {
  /** Events claimed per round trip (`WORKER_BATCH_SIZE`). */
  readonly batchSize: number;
  /** Idle polling interval (`WORKER_POLL_MS`); an in-process worker is also woken by the gate. */
  readonly pollMs: number;
  /** How long a claim holds before another worker may take the event (`WORKER_LEASE_MS`). */
  readonly leaseMs: number;
  /** Attempts before a transiently failing event becomes FAILED (`WORKER_MAX_ATTEMPTS`). */
  readonly maxAttempts: number;
  /** Events of a batch processed at the same time (`WORKER_CONCURRENCY`). */
  readonly concurrency: number;
  /**
   * Assess events (schema, JSONata) on a thread of their own (`WORKER_EVALUATION_THREAD`): the
   * worker's thread runs SQL meanwhile. Costs one more V8 isolate (~40 MB). Unset: each command
   * decides (on for `dealer-gateway worker`, off for the worker inside `serve`).
   */
  readonly evaluationThread: boolean | null;
  /** The retention purge the worker runs (src/pipeline/retention.ts); absent: none. */
  readonly retention?: RetentionConfig;
}

/** What the retention purge removes, and how often it looks; see docs/operations.md ("Retention"). */
export interface RetentionConfig {
  /** Days after which the raw body of a PROCESSED event is deleted (`RETENTION_BODY_DAYS`); 0 = never. */
  readonly bodyDays: number;
  /** Days after which an event's idempotency key is released (`RETENTION_IDEMPOTENCY_DAYS`); 0 = never. */
  readonly idempotencyDays: number;
  /** How often the purge runs (`RETENTION_INTERVAL_MS`). */
  readonly intervalMs: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_SQLITE_PATH = './data/dealer-gateway.db';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

export function parseDatabaseUrl(raw: string | undefined): DatabaseConfig {
  const value = raw?.trim();
  if (!value) return { dialect: 'sqlite', path: resolve(DEFAULT_SQLITE_PATH) };
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new ConfigError('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/db.sqlite');
    return { dialect: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
  }
  if (/^postgres(ql)?:\/\//.test(value)) return { dialect: 'postgres', url: value };
  throw new ConfigError('DATABASE_URL: expected sqlite:PATH, postgres://… or postgresql://…');
}

/** PG_POOL_SIZE applies to PostgreSQL only (default 10 per pool). */
function withPoolSize(database: DatabaseConfig, env: Env): DatabaseConfig {
  const poolSize = integer(env, 'PG_POOL_SIZE', 10, 1, 1000);
  return database.dialect === 'postgres' ? { ...database, poolSize } : database;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}: expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name}: must be between ${min} and ${max}`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name}: expected true or false, got "${raw}"`);
}

const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** TRUST_PROXY, parsed once: see TrustProxy. Anything else fails the start with a ConfigError. */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const value = raw?.trim().toLowerCase();
  if (!value || ['false', 'no', 'off'].includes(value)) return false;
  if (['true', 'yes', 'on'].includes(value)) return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 100) throw new ConfigError('TRUST_PROXY: a hop count must be between 0 and 100');
    return hops === 0 ? false : hops;
  }
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (PROXY_RANGE_NAMES.has(entry) || isAddressOrCidr(entry)) continue;
    throw new ConfigError(
      `TRUST_PROXY: "${entry}" is not an IP address or CIDR; expected true, false, a hop count, or a comma-separated list of proxy addresses/CIDRs`,
    );
  }
  return Object.freeze(entries);
}

function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  const maxPrefix = family === 4 ? 32 : 128;
  const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
  return family !== 0 && prefixOk && rest.length === 0;
}

/** SMTP_URL: smtp:// or smtps:// with a host, checked at start (its password is never echoed). */
function smtpUrl(env: Env): string | null {
  const raw = env.SMTP_URL?.trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('SMTP_URL: not a URL (expected smtp://user:password@host:587 or smtps://…:465)');
  }
  if ((url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') {
    throw new ConfigError('SMTP_URL: expected smtp://… or smtps://… with a host');
  }
  return raw;
}

/** DELIVERY_ALLOW_PRIVATE_NETWORKS: comma-separated addresses or CIDRs, checked at start. */
function networkList(env: Env, name: string): readonly string[] {
  const entries = (env[name] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (!isAddressOrCidr(entry)) throw new ConfigError(`${name}: "${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8, ::1)`);
  }
  return Object.freeze(entries);
}

export function loadConfig(env: Env = process.env): Config {
  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const headersTimeoutMs = integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 1000, 600_000);
  const requestTimeoutMs = integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 1000, 3_600_000);
  // Node refuses to start a server whose headers timeout exceeds its request timeout.
  if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError('HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS');
  const maxInFlight = integer(env, 'MAX_IN_FLIGHT', 256, 1, 100_000);
  // A quarter: one greedy or stalled partner leaves three quarters of the places to the others.
  const quarterOfMaxInFlight = Math.max(1, Math.floor(maxInFlight / 4));
  const maxInFlightPerClient = integer(env, 'MAX_IN_FLIGHT_PER_CLIENT', quarterOfMaxInFlight, 1, 100_000);
  if (maxInFlightPerClient > maxInFlight) throw new ConfigError('MAX_IN_FLIGHT_PER_CLIENT: must not exceed MAX_IN_FLIGHT');
  // 5 s: a client on a real network sends some part of its body far more often than that.
  const fiveSecondsAtMost = Math.min(5_000, requestTimeoutMs);
  const bodyIdleTimeoutMs = integer(env, 'BODY_IDLE_TIMEOUT_MS', fiveSecondsAtMost, 100, 3_600_000);
  if (bodyIdleTimeoutMs > requestTimeoutMs) throw new ConfigError('BODY_IDLE_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS');
  const adminToken = env.ADMIN_TOKEN?.trim() || null;
  // A guessable admin token would open every partner's data: demand real entropy.
  if (adminToken !== null && adminToken.length < 24) throw new ConfigError('ADMIN_TOKEN: must be at least 24 characters');
  return Object.freeze({
    adminToken,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST?.trim() || '127.0.0.1',
    database: Object.freeze(withPoolSize(parseDatabaseUrl(env.DATABASE_URL), env)),
    logLevel,
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    provisioningPollMs: integer(env, 'PROVISIONING_POLL_MS', 500, 50, 60_000),
    workerEnabled: boolean(env, 'WORKER_ENABLED', true),
    worker: Object.freeze({
      batchSize: integer(env, 'WORKER_BATCH_SIZE', 250, 1, 1000),
      pollMs: integer(env, 'WORKER_POLL_MS', 1000, 10, 60_000),
      leaseMs: integer(env, 'WORKER_LEASE_MS', 30_000, 1000, 3_600_000),
      maxAttempts: integer(env, 'WORKER_MAX_ATTEMPTS', 10, 1, 100),
      concurrency: integer(env, 'WORKER_CONCURRENCY', 4, 1, 64),
      evaluationThread: env.WORKER_EVALUATION_THREAD?.trim() ? boolean(env, 'WORKER_EVALUATION_THREAD', false) : null,
      retention: Object.freeze({
        bodyDays: integer(env, 'RETENTION_BODY_DAYS', 30, 0, 36_500),
        idempotencyDays: integer(env, 'RETENTION_IDEMPOTENCY_DAYS', 7, 0, 36_500),
        intervalMs: integer(env, 'RETENTION_INTERVAL_MS', 60_000, 1000, 86_400_000),
      }),
    }),
    http: Object.freeze({
      headersTimeoutMs,
      requestTimeoutMs,
      keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
      maxConnections: integer(env, 'MAX_CONNECTIONS', 4096, 1, 1_000_000),
      maxInFlight,
      maxInFlightPerClient,
      bodyIdleTimeoutMs,
      listenBacklog: integer(env, 'LISTEN_BACKLOG', 511, 1, 65_535),
      shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 1000, 600_000),
    }),
    delivery: Object.freeze({
      enabled: boolean(env, 'DELIVERY_ENABLED', true),
      concurrency: integer(env, 'DELIVERY_CONCURRENCY', 64, 1, 1024),
      perDestination: integer(env, 'DELIVERY_CONCURRENCY_PER_DESTINATION', 16, 1, 256),
      timeoutMs: integer(env, 'DELIVERY_TIMEOUT_MS', 15_000, 100, 300_000),
      pollMs: integer(env, 'DELIVERY_POLL_MS', 1000, 10, 60_000),
      allowPrivateNetworks: networkList(env, 'DELIVERY_ALLOW_PRIVATE_NETWORKS'),
      disableAfterDays: integer(env, 'DELIVERY_DISABLE_AFTER_DAYS', 5, 1, 365),
      secretOverlapHours: integer(env, 'DELIVERY_SECRET_OVERLAP_HOURS', 24, 0, 24 * 30),
      smtpUrl: smtpUrl(env),
      smtpAllowInsecure: boolean(env, 'SMTP_ALLOW_INSECURE', false),
      smtpFrom: env.SMTP_FROM?.trim() || 'dealer-gateway@localhost',
    }),
    authThrottle: Object.freeze({
      maxFailuresPerUsername: integer(env, 'AUTH_MAX_FAILURES_PER_USERNAME', 10, 1, 1_000_000),
      maxFailuresPerAddress: integer(env, 'AUTH_MAX_FAILURES_PER_ADDRESS', 30, 1, 1_000_000),
      windowMs: integer(env, 'AUTH_FAILURE_WINDOW_MS', 60_000, 1000, 86_400_000),
    }),
  } satisfies Config);
}
