import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/core/config.js';

describe('config', () => {
  test('defaults: port 8080 on 127.0.0.1, SQLite at ./data/dealer-gateway.db, info logs', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
    assert.deepEqual(c.database, { dialect: 'sqlite', path: resolve('./data/dealer-gateway.db') });
    assert.equal(c.logLevel, 'info');
    assert.equal(c.maxBodyBytes, 1024 * 1024);
    assert.equal(c.workerEnabled, true);
    assert.ok(Object.isFrozen(c));
  });

  test('DATABASE_URL selects the dialect', () => {
    assert.deepEqual(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.db' }).database, { dialect: 'sqlite', path: '/tmp/x.db' });
    assert.deepEqual(loadConfig({ DATABASE_URL: 'sqlite:rel/x.db' }).database, { dialect: 'sqlite', path: resolve('rel/x.db') });
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).database, {
      dialect: 'postgres',
      url: 'postgres://u@h/db',
      poolSize: 10,
    });
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgresql://u@h/db' }).database, {
      dialect: 'postgres',
      url: 'postgresql://u@h/db',
      poolSize: 10,
    });
  });

  test('PG_POOL_SIZE sizes each PostgreSQL pool; bad values fail at start', () => {
    const db = loadConfig({ DATABASE_URL: 'postgres://u@h/db', PG_POOL_SIZE: '25' }).database;
    assert.equal(db.dialect === 'postgres' && db.poolSize, 25);
    assert.deepEqual(loadConfig({ PG_POOL_SIZE: '25', DATABASE_URL: 'sqlite:/tmp/x.db' }).database, {
      dialect: 'sqlite',
      path: '/tmp/x.db',
    });
    for (const bad of ['0', '1001', 'ten', '-1']) {
      assert.throws(() => loadConfig({ DATABASE_URL: 'postgres://u@h/db', PG_POOL_SIZE: bad }), /PG_POOL_SIZE/, bad);
    }
  });

  test('the contract names are read', () => {
    const c = loadConfig({ PORT: '9090', HOST: '0.0.0.0', LOG_LEVEL: 'debug', MAX_BODY_BYTES: '2048', WORKER_ENABLED: 'false' });
    assert.equal(c.port, 9090);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.maxBodyBytes, 2048);
    assert.equal(c.workerEnabled, false);
  });

  test('WORKER_EVALUATION_THREAD: unset leaves the choice to the command; true and false are kept', () => {
    assert.equal(loadConfig({}).worker.evaluationThread, null);
    assert.equal(loadConfig({ WORKER_EVALUATION_THREAD: 'true' }).worker.evaluationThread, true);
    assert.equal(loadConfig({ WORKER_EVALUATION_THREAD: 'false' }).worker.evaluationThread, false);
  });

  test('bad values are rejected with the variable named', () => {
    const cases: Record<string, string>[] = [
      { PORT: 'eighty' },
      { PORT: '70000' },
      { LOG_LEVEL: 'loud' },
      { DATABASE_URL: 'mysql://x' },
      { DATABASE_URL: 'sqlite:' },
      { WORKER_ENABLED: 'maybe' },
      { WORKER_EVALUATION_THREAD: 'sometimes' },
      { MAX_BODY_BYTES: '-1' },
    ];
    for (const env of cases) {
      const name = Object.keys(env)[0] as string;
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && err.message.startsWith(`${name}:`),
        name,
      );
    }
  });

  test('HTTP limits and auth throttling: defaults, names, and a headers timeout above the request timeout refused', () => {
    const d = loadConfig({});
    assert.deepEqual(d.http, {
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxConnections: 4096,
      maxInFlight: 256,
      maxInFlightPerClient: 64,
      bodyIdleTimeoutMs: 5_000,
      listenBacklog: 511,
      shutdownTimeoutMs: 10_000,
    });
    assert.deepEqual(d.authThrottle, { maxFailuresPerUsername: 10, maxFailuresPerAddress: 30, windowMs: 60_000 });
    const c = loadConfig({
      HEADERS_TIMEOUT_MS: '2000',
      REQUEST_TIMEOUT_MS: '4000',
      KEEP_ALIVE_TIMEOUT_MS: '700',
      MAX_CONNECTIONS: '50',
      MAX_IN_FLIGHT: '8',
      BODY_IDLE_TIMEOUT_MS: '4000',
      LISTEN_BACKLOG: '64',
      SHUTDOWN_TIMEOUT_MS: '3000',
      AUTH_MAX_FAILURES_PER_USERNAME: '5',
      AUTH_MAX_FAILURES_PER_ADDRESS: '6',
      AUTH_FAILURE_WINDOW_MS: '9000',
    });
    assert.deepEqual(c.http, {
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      keepAliveTimeoutMs: 700,
      maxConnections: 50,
      maxInFlight: 8,
      maxInFlightPerClient: 2,
      bodyIdleTimeoutMs: 4000,
      listenBacklog: 64,
      shutdownTimeoutMs: 3000,
    });
    assert.deepEqual(c.authThrottle, { maxFailuresPerUsername: 5, maxFailuresPerAddress: 6, windowMs: 9000 });
    assert.throws(() => loadConfig({ HEADERS_TIMEOUT_MS: '40000' }), /HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS/);
    assert.throws(() => loadConfig({ MAX_IN_FLIGHT: '0' }), ConfigError);
    assert.equal(loadConfig({ MAX_IN_FLIGHT: '3' }).http.maxInFlightPerClient, 1, 'a quarter, at least one');
    assert.equal(loadConfig({ MAX_IN_FLIGHT: '100', MAX_IN_FLIGHT_PER_CLIENT: '100' }).http.maxInFlightPerClient, 100);
    assert.throws(
      () => loadConfig({ MAX_IN_FLIGHT: '8', MAX_IN_FLIGHT_PER_CLIENT: '9' }),
      /MAX_IN_FLIGHT_PER_CLIENT: must not exceed MAX_IN_FLIGHT/,
    );
    assert.throws(() => loadConfig({ BODY_IDLE_TIMEOUT_MS: '40000' }), /BODY_IDLE_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS/);
  });
});
