import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

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
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).database, { dialect: 'postgres', url: 'postgres://u@h/db' });
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgresql://u@h/db' }).database, {
      dialect: 'postgres',
      url: 'postgresql://u@h/db',
    });
  });

  test('the contract names are read', () => {
    const c = loadConfig({ PORT: '9090', HOST: '0.0.0.0', LOG_LEVEL: 'debug', MAX_BODY_BYTES: '2048', WORKER_ENABLED: 'false' });
    assert.equal(c.port, 9090);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.maxBodyBytes, 2048);
    assert.equal(c.workerEnabled, false);
  });

  test('bad values are rejected with the variable named', () => {
    const cases: Record<string, string>[] = [
      { PORT: 'eighty' },
      { PORT: '70000' },
      { LOG_LEVEL: 'loud' },
      { DATABASE_URL: 'mysql://x' },
      { DATABASE_URL: 'sqlite:' },
      { WORKER_ENABLED: 'maybe' },
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
});
