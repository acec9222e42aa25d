// The OpenAPI document is a contract partners generate code from: the committed copy
// (docs/openapi.json, written by `npm run openapi`) must be exactly what the app serves, and
// every operation must carry what generators and readers need.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { ERROR_CODES, type ErrorCode, httpStatusOf } from '../../src/core/errors.js';
import { createTestDatabase } from '../helpers/databases.js';

interface Schema {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
}

interface Response {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: Schema; example?: unknown }>;
}

interface Operation {
  operationId?: string;
  summary?: string;
  security?: Record<string, unknown>[];
  responses?: Record<string, Response>;
}

/** The enum of error codes of an error body, whichever envelope it is in (src/http/envelopes.ts). */
function codeEnum(schema: Schema | undefined): unknown[] | undefined {
  const p = schema?.properties;
  return (
    p?.errorCode?.enum ?? // leads, 4xx
    p?.error?.properties?.errorCode?.enum ?? // leads, 5xx
    p?.errors?.items?.properties?.errorCode?.enum ?? // events
    p?.error?.properties?.code?.enum // plain
  );
}

/** Whether `code` is answered with `status`: an exact status, or a range such as 4XX. */
function statusMatches(status: string, code: ErrorCode): boolean {
  const actual = httpStatusOf(code);
  return /^[1-5]XX$/.test(status) ? Math.floor(actual / 100) === Number(status[0]) : actual === Number(status);
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

        // Every response: X-Request-Id, and an example of each body it documents.
        for (const [status, response] of Object.entries(op.responses ?? {})) {
          assert.ok(response.headers?.['X-Request-Id'], `${where} ${status}: X-Request-Id header`);
          for (const [type, media] of Object.entries(response.content ?? {})) {
            assert.ok(media.example !== undefined, `${where} ${status} ${type}: an example`);
          }
          if (status === '429' || status === '503') assert.ok(response.headers?.['Retry-After'], `${where} ${status}: Retry-After`);
          if (/^[45]/.test(status)) {
            // Error answers: the code field is an enum drawn from the closed list, each code of this status.
            const codes = codeEnum(response.content?.['application/json']?.schema);
            assert.ok(codes && codes.length > 0, `${where} ${status}: an enum of error codes`);
            for (const code of codes) {
              assert.ok((ERROR_CODES as readonly unknown[]).includes(code), `${where} ${status}: ${String(code)} is in ERROR_CODES`);
              assert.ok(statusMatches(status, code as ErrorCode), `${where} ${status}: ${String(code)} is answered with ${status}`);
            }
            const example = JSON.stringify(response.content?.['application/json']?.example);
            assert.ok(
              codes.some((code) => example.includes(`"${String(code)}"`)),
              `${where} ${status}: the example carries one of its codes`,
            );
          }
        }
        // An operation that takes credentials documents its 401 and the challenge it carries.
        if ((op.security ?? []).length > 0) {
          assert.ok(op.responses?.['401'], `${where}: a 401`);
          assert.ok(op.responses?.['401']?.headers?.['WWW-Authenticate'], `${where}: 401 with WWW-Authenticate`);
        }
        // Partner operations document the RateLimit headers their successes carry.
        if ((op.security ?? []).some((s) => 'basicAuth' in s)) {
          const success = Object.entries(op.responses ?? {}).find(([status]) => status.startsWith('2'))?.[1];
          assert.ok(success?.headers?.['RateLimit-Remaining'], `${where}: RateLimit headers`);
          assert.ok(op.responses?.['429']?.headers?.['RateLimit-Reset'], `${where}: 429 with RateLimit headers`);
        }
      }
    }
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    assert.ok(served.servers?.length > 0 && served.info?.license?.name, 'servers and license');
  } finally {
    await app.close();
    await tdb.destroy();
  }
});
