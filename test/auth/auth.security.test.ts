// The authentication and authorization matrix of the leads endpoints, and log hygiene: credentials
// never reach a log line, whatever the outcome of the request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../../src/app.js';
import { loggerOptions } from '../../src/core/logger.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const SAVE_URL = '/leads/v2/dealer/d-1';
const READ_URL = '/leads/v2/dealer/d-1/lead/x';
const COLON_PASSWORD = 'pa:ss:word-with:colons';

const b64 = (text: string) => Buffer.from(text).toString('base64');

interface Endpoint {
  readonly name: string;
  readonly method: 'POST' | 'GET';
  readonly url: string;
}

const ENDPOINTS: readonly Endpoint[] = [
  { name: 'POST save', method: 'POST', url: SAVE_URL },
  { name: 'GET read', method: 'GET', url: READ_URL },
];

const MALFORMED: readonly [string, string][] = [
  ['a Bearer token', 'Bearer x'],
  ['"Basic" with no credentials', 'Basic'],
  ['"Basic" followed by non-base64', 'Basic !!!'],
  ['base64 without a colon', `Basic ${b64('writer-without-colon')}`],
  ['base64 with an empty username', `Basic ${b64(`:${PASSWORD}`)}`],
];

/** The Spring Boot error body of the leads contract, with its status and error code. */
function assertSpringError(res: LightMyRequestResponse, status: number, errorCode: string | RegExp, path: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'errorCode', 'message', 'path', 'status', 'timestamp']);
  assert.match(body.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.equal(body.status, status);
  assert.equal(body.error, status === 401 ? 'Unauthorized' : 'Forbidden');
  if (typeof errorCode === 'string') assert.equal(body.errorCode, errorCode);
  else assert.match(body.errorCode, errorCode);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  assert.equal(body.path, path);
}

function assertUnauthorized(res: LightMyRequestResponse, errorCode: string | RegExp, path: string): void {
  assertSpringError(res, 401, errorCode, path);
  assert.match(String(res.headers['www-authenticate']), /^Basic /);
}

function assertForbidden(res: LightMyRequestResponse, path: string): void {
  assertSpringError(res, 403, 'INVALID_SCOPE_DEALER', path);
  assert.equal(res.headers['www-authenticate'], undefined);
}

const withoutTimestamp = (res: LightMyRequestResponse) => res.body.replace(/"timestamp":"[^"]*"/, '"timestamp":""');

describeEachDialect('auth: credentials and dealer scopes', { fixture: baseFixture }, (ctx) => {
  const call = (endpoint: Endpoint, authorization?: string, payload: unknown = leadBody()) =>
    ctx().app.inject({
      method: endpoint.method,
      url: endpoint.url,
      headers: authorization === undefined ? {} : { authorization },
      ...(endpoint.method === 'POST' ? { payload: payload as object } : {}),
    });
  const save = (dealer: string, authorization: string, body = leadBody()) =>
    ctx().app.inject({ method: 'POST', url: `/leads/v2/dealer/${dealer}`, headers: { authorization }, payload: body });
  const read = (dealer: string, prospectUuid: string, authorization: string) =>
    ctx().app.inject({ method: 'GET', url: `/leads/v2/dealer/${dealer}/lead/${prospectUuid}`, headers: { authorization } });

  for (const endpoint of ENDPOINTS) {
    test(`${endpoint.name}: no Authorization header → 401 NULL_CREDENTIALS`, async () => {
      assertUnauthorized(await call(endpoint), 'NULL_CREDENTIALS', endpoint.url);
    });

    test(`${endpoint.name}: an empty Authorization header → 401 NULL_CREDENTIALS`, async () => {
      assertUnauthorized(await call(endpoint, ''), 'NULL_CREDENTIALS', endpoint.url);
    });

    for (const [what, header] of MALFORMED) {
      test(`${endpoint.name}: ${what} → 401 MALFORMED_CREDENTIALS`, async () => {
        assertUnauthorized(await call(endpoint, header), 'MALFORMED_CREDENTIALS', endpoint.url);
      });
    }

    test(`${endpoint.name}: wrong password and unknown user → 401 WRONG_CREDENTIAL, indistinguishable`, async () => {
      const wrongPassword = await call(endpoint, basic('writer', 'not-the-password'));
      const unknownUser = await call(endpoint, basic('nobody-by-this-name', 'not-the-password'));
      assertUnauthorized(wrongPassword, 'WRONG_CREDENTIAL', endpoint.url);
      assertUnauthorized(unknownUser, 'WRONG_CREDENTIAL', endpoint.url);
      assert.equal(withoutTimestamp(wrongPassword), withoutTimestamp(unknownUser));
      assert.equal(wrongPassword.headers['www-authenticate'], unknownUser.headers['www-authenticate']);
      assert.equal(wrongPassword.headers['content-length'], unknownUser.headers['content-length']);
    });

    test(`${endpoint.name}: a disabled subscriber with the right password → 401, like a wrong password`, async () => {
      const disabled = await call(endpoint, basic('off', PASSWORD));
      const wrongPassword = await call(endpoint, basic('off', 'not-the-password'));
      assertUnauthorized(disabled, 'WRONG_CREDENTIAL', endpoint.url);
      assert.equal(withoutTimestamp(disabled), withoutTimestamp(wrongPassword));
    });

    test(`${endpoint.name}: 'other' (lead.write for d-2 only) on d-1 → 403 INVALID_SCOPE_DEALER`, async () => {
      assertForbidden(await call(endpoint, basic('other', PASSWORD)), endpoint.url);
    });

    test(`${endpoint.name}: 'events-only' (no lead scope) → 403 INVALID_SCOPE_DEALER`, async () => {
      assertForbidden(await call(endpoint, basic('events-only', PASSWORD)), endpoint.url);
    });
  }

  test('repeated wrong passwords keep failing the same way, and do not lock out the right one', async () => {
    const first = await save('d-1', basic('writer', 'retry-loop-wrong'));
    for (let i = 0; i < 3; i++) {
      const again = await save('d-1', basic('writer', 'retry-loop-wrong'));
      assertUnauthorized(again, 'WRONG_CREDENTIAL', SAVE_URL);
      assert.equal(withoutTimestamp(again), withoutTimestamp(first));
    }
    const right = await save('d-1', basic('writer', PASSWORD), leadBody({ leadId: 'auth-after-retries' }));
    assert.equal(right.statusCode, 200, right.body);
  });

  test('the Basic scheme name is case-insensitive (RFC 7617)', async () => {
    const res = await save('d-1', `basic ${b64(`writer:${PASSWORD}`)}`, leadBody({ leadId: 'auth-case' }));
    assert.equal(res.statusCode, 200, res.body);
  });

  test("'writer' (lead.write for d-1) saves to d-1 but not to d-2", async () => {
    const ok = await save('d-1', basic('writer', PASSWORD), leadBody({ leadId: 'auth-writer' }));
    assert.equal(ok.statusCode, 200, ok.body);
    assertForbidden(await save('d-2', basic('writer', PASSWORD), d2Lead('auth-writer-d2')), '/leads/v2/dealer/d-2');
  });

  test("'other' saves to its own dealer d-2", async () => {
    const res = await save('d-2', basic('other', PASSWORD), d2Lead('auth-other'));
    assert.equal(res.statusCode, 200, res.body);
  });

  test("'multi' (MultiDealer grant) saves to d-1 and to d-2", async () => {
    const d1 = await save('d-1', basic('multi', PASSWORD), leadBody({ leadId: 'auth-multi-1' }));
    assert.equal(d1.statusCode, 200, d1.body);
    assert.equal(d1.json().isNewCreated, true);
    const d2 = await save('d-2', basic('multi', PASSWORD), d2Lead('auth-multi-2'));
    assert.equal(d2.statusCode, 200, d2.body);
    assert.equal(d2.json().isNewCreated, true);
  });

  test("'multi' reaches a dealer provisioned after its grant (MultiDealer means all dealers)", async () => {
    await ctx().provision({
      dealers: [{ uuid: 'd-late', name: 'Late Motors' }],
      customers: [{ dealer: 'd-late', uuid: 'c-late', vehicles: [{ uuid: 'v-late' }] }],
    });
    const res = await save(
      'd-late',
      basic('multi', PASSWORD),
      leadBody({ leadId: 'auth-late', customer: { uuid: 'c-late' }, vehicle: { uuid: 'v-late' } }),
    );
    assert.equal(res.statusCode, 200, res.body);
  });

  test("'reader' (lead.read) can read a lead of d-1 but cannot save one", async () => {
    const saved = await save('d-1', basic('writer', PASSWORD), leadBody({ leadId: 'auth-reader' }));
    assert.equal(saved.statusCode, 200, saved.body);
    const prospectUuid = saved.json().prospectUuid as string;

    const res = await read('d-1', prospectUuid, basic('reader', PASSWORD));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().lead.prospectUuid, prospectUuid);

    assertForbidden(await save('d-1', basic('reader', PASSWORD), leadBody({ leadId: 'auth-reader-2' })), SAVE_URL);
  });

  test("'reader' passes authorization on GET of an unknown lead (404, not 401/403)", async () => {
    const res = await read('d-1', 'x', basic('reader', PASSWORD));
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.json().errorCode, 'LEAD_NOT_FOUND');
  });

  test("'reader' cannot read from a dealer it holds no scope for", async () => {
    assertForbidden(await read('d-2', 'x', basic('reader', PASSWORD)), '/leads/v2/dealer/d-2/lead/x');
  });

  test('a 403 reveals nothing about whether the dealer exists', async () => {
    const unknownDealer = await save('d-nope', basic('other', PASSWORD));
    const knownDealer = await save('d-1', basic('other', PASSWORD));
    assertForbidden(unknownDealer, '/leads/v2/dealer/d-nope');
    assertForbidden(knownDealer, SAVE_URL);
  });

  describe('authentication comes before body parsing and validation', () => {
    test('an invalid body without credentials → 401, not 400', async () => {
      const res = await call(ENDPOINTS[0] as Endpoint, undefined, { nonsense: true });
      assertUnauthorized(res, 'NULL_CREDENTIALS', SAVE_URL);
    });

    test('an invalid body with a wrong password → 401, not 400', async () => {
      const res = await call(ENDPOINTS[0] as Endpoint, basic('writer', 'not-the-password'), { nonsense: true });
      assertUnauthorized(res, 'WRONG_CREDENTIAL', SAVE_URL);
    });

    test('a body that is not JSON at all, without credentials → 401', async () => {
      const res = await ctx().app.inject({
        method: 'POST',
        url: SAVE_URL,
        headers: { 'content-type': 'application/json' },
        payload: '{ this is not json',
      });
      assertUnauthorized(res, 'NULL_CREDENTIALS', SAVE_URL);
    });

    test('an unsupported content type, without credentials → 401, not 415', async () => {
      const res = await ctx().app.inject({ method: 'POST', url: SAVE_URL, headers: { 'content-type': 'text/plain' }, payload: 'hello' });
      assertUnauthorized(res, 'NULL_CREDENTIALS', SAVE_URL);
    });

    test('an invalid body from a subscriber lacking the scope → 403, not 400', async () => {
      const res = await call(ENDPOINTS[0] as Endpoint, basic('other', PASSWORD), { nonsense: true });
      assertForbidden(res, SAVE_URL);
    });

    test('the same invalid body with valid credentials → 400 (validation does run once authorized)', async () => {
      const res = await call(ENDPOINTS[0] as Endpoint, basic('writer', PASSWORD), { nonsense: true });
      assert.equal(res.statusCode, 400, res.body);
    });
  });

  describe('a password containing ":"', () => {
    before(async () => {
      await ctx().provision({
        subscribers: [{ username: 'colon', password: COLON_PASSWORD, grants: [{ scope: 'lead.write', dealers: ['d-1'] }] }],
      });
    });

    test('authenticates: the username ends at the first colon', async () => {
      const res = await save('d-1', basic('colon', COLON_PASSWORD), leadBody({ leadId: 'auth-colon' }));
      assert.equal(res.statusCode, 200, res.body);
    });

    test('splitting at a later colon does not authenticate', async () => {
      // "colon:pa" as the username and "ss:word-with:colons" as the password is another identity.
      const header = `Basic ${b64(`colon:pa:ss:word-with`)}`;
      assertUnauthorized(await save('d-1', header), 'WRONG_CREDENTIAL', SAVE_URL);
    });
  });
});

function d2Lead(leadId: string): Record<string, unknown> {
  return leadBody({ leadId, customer: { uuid: 'c-2' }, vehicle: { uuid: 'v-2' } });
}

// ---------------------------------------------------------------------------------------------
// Log hygiene: a trace-level logger sees every request, and still never a credential.

for (const dialect of testDialects()) {
  describe(`auth: credentials never reach the logs [${dialect}]`, () => {
    let tdb: TestDatabase;
    let app: FastifyInstance;
    const lines: string[] = [];
    const stream = { write: (line: string) => void lines.push(line) };

    before(async () => {
      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, baseFixture);
      await applyProvisioning(tdb.db.kysely, {
        subscribers: [{ username: 'colon', password: COLON_PASSWORD, grants: [{ scope: 'lead.write', dealers: ['d-1'] }] }],
      });
      // Fastify 5 accepts pino options with a `stream` as `logger`.
      const logger = { ...loggerOptions('trace'), stream } as ReturnType<typeof loggerOptions>;
      app = await buildApp(tdb.config, { db: tdb.db, logger });
    });
    after(async () => {
      await app?.close();
      await tdb?.destroy();
    });

    test('after successful, rejected and failing requests, no log line holds a password or credential', async () => {
      const secrets = new Set<string>();
      const send = async (authorization: string | undefined, body: unknown = leadBody(), url = SAVE_URL) => {
        if (authorization !== undefined) {
          secrets.add(authorization);
          const encoded = authorization.replace(/^\S+\s*/, '');
          if (encoded.length >= 8) secrets.add(encoded);
        }
        return app.inject({ method: 'POST', url, headers: authorization === undefined ? {} : { authorization }, payload: body as object });
      };

      const statuses: number[] = [];
      // Authenticated and authorized.
      statuses.push((await send(basic('writer', PASSWORD), leadBody({ leadId: 'log-1' }))).statusCode);
      statuses.push((await send(basic('colon', COLON_PASSWORD), leadBody({ leadId: 'log-2' }))).statusCode);
      // Rejected: no, malformed, wrong, unknown, disabled credentials; lacking scope; invalid body.
      statuses.push((await send(undefined)).statusCode);
      statuses.push((await send(`Basic ${b64('writer-correct-horse-no-colon')}`)).statusCode);
      statuses.push((await send(basic('writer', 'wrong-password-9f2c'))).statusCode);
      statuses.push((await send(basic('ghost-user', 'ghost-password-77ab'))).statusCode);
      statuses.push((await send(basic('off', PASSWORD))).statusCode);
      statuses.push((await send(basic('other', PASSWORD))).statusCode);
      statuses.push((await send(basic('writer', PASSWORD), { nonsense: true })).statusCode);
      statuses.push((await send(basic('writer', PASSWORD), leadBody(), '/leads/v2/dealer/d-1/no-such-route')).statusCode);
      // A server error: the leads table disappears under the running service.
      await sql`ALTER TABLE leads RENAME TO leads_gone`.execute(tdb.db.kysely);
      try {
        statuses.push((await send(basic('writer', PASSWORD), leadBody({ leadId: 'log-3' }))).statusCode);
      } finally {
        await sql`ALTER TABLE leads_gone RENAME TO leads`.execute(tdb.db.kysely);
      }
      assert.deepEqual(statuses, [200, 200, 401, 401, 401, 401, 401, 403, 400, 404, 500]);

      const text = lines.join('');
      // The logger did capture the traffic (so the absence below means something).
      assert.equal(app.log.level, 'trace');
      assert.match(text, /request completed/);
      assert.match(text, /"errorCode":"WRONG_CREDENTIAL"/);
      assert.match(text, /request failed/);
      assert.match(text, /"statusCode":500/);

      const forbidden = [
        PASSWORD,
        COLON_PASSWORD,
        'wrong-password-9f2c',
        'ghost-password-77ab',
        'writer-correct-horse-no-colon',
        b64(`writer:${PASSWORD}`),
        b64(`colon:${COLON_PASSWORD}`),
        ...secrets,
      ];
      for (const secret of forbidden) {
        assert.ok(!text.includes(secret), `log output contains ${JSON.stringify(secret)}`);
      }
      assert.doesNotMatch(text, /"authorization":"(?!\[redacted\])/i, 'no authorization header value in the logs');
    });
  });
}
