// Server-side failures of the leads API: answered in the leads envelope with an errorUID the
// caller can quote (= x-request-id), never leaking SQL, table names, stack traces or driver text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic } from '../helpers/suite.js';

const writer = basic('writer', PASSWORD);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Things that must never reach a caller. */
const LEAKS: RegExp[] = [
  /\bleads\b/i, // the table name
  /\bSQL/i,
  /sqlite/i,
  /postgres/i,
  /\bpg\b/i,
  /kysely/i,
  /\b(select|insert|update|delete|drop)\b/i,
  /no such table/i,
  /relation/i,
  /does not exist/i,
  /destroyed/i,
  /connection (terminated|refused|reset|is not open|error)/i,
  /ECONN|ETIMEDOUT/,
  /constraint/i,
  /stack/i,
  /\bat \S+ \(/, // a stack frame
  /\.(ts|js):\d+/,
  /node_modules/,
  /\w*Error\b/, // TypeError, SqliteError, DatabaseError …
];

/** Asserts the leads 5xx envelope exactly, errorUID = x-request-id, and no leaked detail. */
function assertServerError(res: LightMyRequestResponse, status: number, errorCode: string): string {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'isNewCreated', 'prospectUuid', 'statusCode', 'warnings']);
  assert.deepEqual(Object.keys(body.error).sort(), ['errorCode', 'errorDescription', 'errorUID']);
  assert.equal(body.error.errorCode, errorCode);
  assert.equal(typeof body.error.errorDescription, 'string');
  assert.ok(body.error.errorDescription.length > 0);
  assert.equal(body.isNewCreated, null);
  assert.equal(body.prospectUuid, null);
  assert.equal(body.statusCode, status);
  assert.deepEqual(body.warnings, []);
  const requestId = res.headers['x-request-id'];
  assert.equal(typeof requestId, 'string');
  assert.match(requestId as string, UUID);
  assert.equal(body.error.errorUID, requestId);
  for (const leak of LEAKS) assert.doesNotMatch(res.body, leak, `response leaks ${leak}: ${res.body}`);
  return body.error.errorUID;
}

/** A fresh database with the base fixture, and an app over it. */
async function freshApp(dialect: TestDatabase['dialect']): Promise<{ tdb: TestDatabase; app: FastifyInstance }> {
  const tdb = await createTestDatabase(dialect);
  // Only the subscriber these tests use: every provisioned password costs an scrypt hash.
  await applyProvisioning(tdb.db.kysely, { ...baseFixture, subscribers: baseFixture.subscribers.filter((s) => s.username === 'writer') });
  const app = await buildApp(tdb.config, { db: tdb.db, logger: false });
  await app.directory.refresh(true);
  return { tdb, app };
}

for (const dialect of testDialects()) {
  describe(`leads: server errors [${dialect}]`, () => {
    describe('the leads table is gone', () => {
      let tdb: TestDatabase | undefined;
      let app: FastifyInstance | undefined;
      let savedBefore = '';
      const inject = (opts: InjectOptions) => {
        if (!app) throw new Error('setup failed');
        return app.inject(opts);
      };
      const save = (body: unknown) =>
        inject({ method: 'POST', url: '/leads/v2/dealer/d-1', headers: { authorization: writer }, payload: body as object });

      before(async () => {
        ({ tdb, app } = await freshApp(dialect));
        const ok = await save(leadBody({ leadId: 'before-drop' }));
        assert.equal(ok.statusCode, 200, ok.body);
        savedBefore = ok.json().prospectUuid;
        await tdb.db.kysely.schema.dropTable('leads').execute();
      });
      after(async () => {
        await app?.close();
        await tdb?.destroy();
      });

      test('a save → 500 INTERNAL_ERROR in the leads envelope, errorUID = x-request-id, nothing leaked', async () => {
        assertServerError(await save(leadBody({ leadId: 'after-drop' })), 500, 'INTERNAL_ERROR');
      });

      test('a read → 500 INTERNAL_ERROR in the leads envelope', async () => {
        const res = await inject({ method: 'GET', url: `/leads/v2/dealer/d-1/lead/${savedBefore}`, headers: { authorization: writer } });
        assertServerError(res, 500, 'INTERNAL_ERROR');
      });

      test('every failure has its own errorUID', async () => {
        const uids = new Set<string>();
        for (let i = 0; i < 3; i++) uids.add(assertServerError(await save(leadBody({ leadId: `uid-${i}` })), 500, 'INTERNAL_ERROR'));
        assert.equal(uids.size, 3);
      });

      test('client errors are still answered as 4xx (validation and references do not need the table)', async () => {
        const invalid = await save(leadBody({ status: 'OPEN' }));
        assert.equal(invalid.statusCode, 400);
        assert.equal(invalid.json().errorCode, 'VALIDATION_FAILED');
        const unknownCustomer = await save(leadBody({ customer: { uuid: 'c-404' } }));
        assert.equal(unknownCustomer.statusCode, 422);
        assert.equal(unknownCustomer.json().errorCode, 'CUSTOMER_NOT_FOUND');
      });

      test('the process keeps serving: /healthz answers 200', async () => {
        const res = await inject({ method: 'GET', url: '/healthz' });
        assert.equal(res.statusCode, 200);
      });
    });

    describe('the database connection is closed', () => {
      let tdb: TestDatabase | undefined;
      let app: FastifyInstance | undefined;
      const inject = (opts: InjectOptions) => {
        if (!app) throw new Error('setup failed');
        return app.inject(opts);
      };
      const save = (body: unknown) =>
        inject({ method: 'POST', url: '/leads/v2/dealer/d-1', headers: { authorization: writer }, payload: body as object });

      before(async () => {
        ({ tdb, app } = await freshApp(dialect));
        await tdb.db.close();
      });
      after(async () => {
        await app?.close();
        await tdb?.destroy();
      });

      test('a save is answered with a 5xx leads envelope, nothing leaked, and the process keeps serving', async () => {
        const res = await save(leadBody({ leadId: 'closed-1' }));
        assert.ok(res.statusCode >= 500 && res.statusCode < 600, `5xx, got ${res.statusCode}`);
        assertServerError(res, res.statusCode, res.json().error?.errorCode);
        assert.equal((await inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      });

      test('a save → 503 SERVICE_UNAVAILABLE with Retry-After', {}, async () => {
        const res = await save(leadBody({ leadId: 'closed-2' }));
        assertServerError(res, 503, 'SERVICE_UNAVAILABLE');
        assert.match(String(res.headers['retry-after']), /^\d+$/);
      });

      test('a read → 503 SERVICE_UNAVAILABLE with Retry-After', {}, async () => {
        const res = await inject({
          method: 'GET',
          url: '/leads/v2/dealer/d-1/lead/00000000-0000-4000-8000-000000000000',
          headers: { authorization: writer },
        });
        assertServerError(res, 503, 'SERVICE_UNAVAILABLE');
        assert.match(String(res.headers['retry-after']), /^\d+$/);
      });

      test('/readyz reports the database as not ready (503)', async () => {
        const res = await inject({ method: 'GET', url: '/readyz' });
        assert.equal(res.statusCode, 503);
        assert.equal(res.json().error.code, 'SERVICE_UNAVAILABLE');
        assert.match(String(res.headers['retry-after']), /^\d+$/);
      });

      test('validation errors still answer 400 (no database needed)', async () => {
        const res = await save(leadBody({ services: [] }));
        assert.equal(res.statusCode, 400);
        assert.equal(res.json().errorCode, 'VALIDATION_FAILED');
      });
    });
  });
}
