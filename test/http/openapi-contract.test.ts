// The OpenAPI document is a contract partners generate code from: the committed copy
// (docs/openapi.json, written by `npm run openapi`) must be exactly what the app serves, and
// every operation must carry what generators and readers need.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { createTestDatabase } from '../helpers/databases.js';

interface Operation {
  operationId?: string;
  summary?: string;
  security?: unknown[];
  responses?: Record<string, unknown>;
}

test('docs/openapi.json is what the app serves, and every operation is complete', async () => {
  const tdb = await createTestDatabase('sqlite', { ADMIN_TOKEN: 'x'.repeat(32) });
  const app = await buildApp(tdb.config, { db: tdb.db, logger: false });
  try {
    const served = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    assert.deepEqual(committed, served, 'docs/openapi.json is out of date: run `npm run openapi` and commit it');

    const ids: string[] = [];
    for (const [path, item] of Object.entries<Record<string, Operation>>(served.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(op.operationId, `${where}: operationId`);
        assert.ok(op.summary, `${where}: summary`);
        assert.ok(Array.isArray(op.security), `${where}: security (empty for public routes)`);
        const statuses = Object.keys(op.responses ?? {});
        assert.ok(
          statuses.some((s) => s.startsWith('2')),
          `${where}: a 2xx response`,
        );
        assert.ok(
          statuses.some((s) => s.startsWith('4')),
          `${where}: a 4xx response`,
        );
        ids.push(op.operationId as string);
      }
    }
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    assert.ok(served.servers?.length > 0 && served.info?.license?.name, 'servers and license');
  } finally {
    await app.close();
    await tdb.destroy();
  }
});
