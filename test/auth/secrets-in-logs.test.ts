// Secrets never reach the logs, at any level: the real app with its real logger options
// (src/core/logger.ts) writing to memory at trace … fatal, exercised with Basic auth (success and
// failure), a lead save, an event, the admin Bearer token (success and failure), a console
// sign-in and a request carrying its session cookie, and applies that carry passwords (admin API
// and the CLI). The log text must contain no password, no base64 of user:password, no whole
// Authorization value, no admin token, no session cookie value and no scrypt hash.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import type { LogLevel } from '../../src/core/config.js';
import { loadConfig } from '../../src/core/config.js';
import { loggerOptions } from '../../src/core/logger.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { run, show } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { leadBody } from '../helpers/fixtures.js';
import { basic } from '../helpers/suite.js';

const PASSWORD = 'P4rtner-Secret-Alpha-91';
const WRONG_PASSWORD = 'Wr0ng-Guess-Secret-77';
const ADMIN_TOKEN = 'admin-Secret-Token-abcdefghijklmnop123';
const WRONG_ADMIN_TOKEN = 'wrong-admin-Secret-Token-zyxwvut987654';
const API_PASSWORD = 'Ap1-Created-Secret-Gamma-33';
const ROTATED_PASSWORD = 'R0tated-Secret-Beta-55';
const CLI_PASSWORD = 'C1i-Applied-Secret-Delta-44';
const EVENTS_URL = '/service-pre-diag/third-party-events/vehicle-service-chat/v1';
const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

const fixture = {
  dealers: [{ uuid: 'd-1', name: 'Test Imports LLC' }],
  subscribers: [
    {
      username: 'leaky',
      password: PASSWORD,
      grants: [
        { scope: 'lead.write', dealers: ['d-1'] },
        { scope: 'spd.events.vehicleservicechat.write', dealers: '*' },
      ],
    },
  ],
  customers: [{ dealer: 'd-1', uuid: 'c-1', vehicles: [{ uuid: 'v-1', vin: '1HGCM82633A004352' }] }],
  integrations: [{ subscriber: 'leaky', eventType: 'vehicle-service-chat', dealerMap: { 'EXT-1': 'd-1' } }],
};

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Everything that must never appear in a log line. */
function secrets(extra: readonly string[]): string[] {
  const passwords = [PASSWORD, WRONG_PASSWORD, API_PASSWORD, ROTATED_PASSWORD, CLI_PASSWORD];
  return [
    ...passwords,
    ...passwords.flatMap((p) => ['leaky', 'api-partner', 'cli-partner'].map((u) => b64(`${u}:${p}`))),
    ...passwords.flatMap((p) => ['leaky', 'api-partner'].map((u) => basic(u, p))),
    ADMIN_TOKEN,
    WRONG_ADMIN_TOKEN,
    `Bearer ${ADMIN_TOKEN}`,
    `Bearer ${WRONG_ADMIN_TOKEN}`,
    ...extra,
  ];
}

function assertClean(text: string, extra: readonly string[], what: string): void {
  for (const secret of secrets(extra))
    assert.equal(text.includes(secret), false, `${what}: the log contains a secret (${secret.slice(0, 6)}…)`);
  assert.equal(/scrypt\$/.test(text), false, `${what}: the log contains an scrypt hash`);
}

for (const dialect of testDialects()) {
  describe(`secrets never reach the logs [${dialect}]`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase(dialect, { ADMIN_TOKEN });
      await applyProvisioning(tdb.db.kysely, fixture);
    });
    after(async () => {
      await tdb?.destroy();
    });

    for (const level of LEVELS) {
      test(`at level ${level}`, async () => {
        let text = '';
        const stream = new Writable({
          write(chunk, _encoding, done) {
            text += chunk.toString();
            done();
          },
        });
        const config = loadConfig({ DATABASE_URL: tdb.url, LOG_LEVEL: level, ADMIN_TOKEN, WORKER_ENABLED: 'true', WORKER_POLL_MS: '50' });
        const logger = pino(loggerOptions(level), stream);
        const app: FastifyInstance = await buildApp(config, { db: tdb.db, loggerInstance: logger });
        await app.ready();
        const cookies: string[] = [];
        try {
          const partner = (auth: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
            app.inject({ method, url, headers: { authorization: auth }, ...(payload === undefined ? {} : { payload: payload as object }) });
          const admin = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, token = ADMIN_TOKEN) =>
            app.inject({
              method,
              url: `/admin/v1${url}`,
              headers: { authorization: `Bearer ${token}` },
              ...(payload === undefined ? {} : { payload: payload as object }),
            });
          const expect = (res: LightMyRequestResponse, status: number) => assert.equal(res.statusCode, status, res.body);

          // Basic auth: success (a lead save, a read), failure, malformed.
          expect(await partner(basic('leaky', PASSWORD), 'POST', '/leads/v2/dealer/d-1', leadBody({ leadId: `L-${level}` })), 200);
          expect(await partner(basic('leaky', WRONG_PASSWORD), 'POST', '/leads/v2/dealer/d-1', leadBody()), 401);
          expect(await partner(basic('nobody', WRONG_PASSWORD), 'GET', '/leads/v2/dealer/d-1/lead/x'), 401);
          expect(await partner(`Basic ${b64(`leaky${PASSWORD}`)}`, 'GET', '/leads/v2/dealer/d-1/lead/x'), 401);
          // An event, its status, a dry run.
          const event = await partner(basic('leaky', PASSWORD), 'POST', EVENTS_URL, {
            dealer_uuid: 'EXT-1',
            vin: '1HGCM82633A004352',
            summary: 'brakes',
            chat_code: `CH-${level}`,
          });
          expect(event, 200);
          const requestId = (event.json() as { requestId: string }).requestId;
          expect(await partner(basic('leaky', PASSWORD), 'GET', `${EVENTS_URL}/${requestId}`), 200);
          expect(await partner(basic('leaky', WRONG_PASSWORD), 'POST', EVENTS_URL, { vin: 'x' }), 401);
          // Admin Bearer: success and failure; applies with passwords through the admin API.
          expect(await admin('GET', '/subscribers'), 200);
          expect(await admin('GET', '/subscribers', undefined, WRONG_ADMIN_TOKEN), 401);
          const created = await admin('POST', '/subscribers', {
            username: 'api-partner',
            password: API_PASSWORD,
            grants: [{ scope: 'lead.read', dealers: '*' }],
          });
          assert.ok(created.statusCode === 201 || created.statusCode === 409, created.body);
          expect(await admin('POST', '/subscribers/api-partner/password', { password: ROTATED_PASSWORD, passwordOverlapHours: 1 }), 200);
          expect(await admin('POST', '/subscribers/api-partner/password', { password: 'short' }), 400);
          await app.directory.refresh();
          expect(await partner(basic('api-partner', ROTATED_PASSWORD), 'GET', '/leads/v2/dealer/d-1/lead/x'), 404);
          // Console: sign in with the token (and a wrong one), then a request carrying the cookie.
          expect(await app.inject({ method: 'POST', url: '/console/session', payload: { token: WRONG_ADMIN_TOKEN } }), 401);
          const signIn = await app.inject({ method: 'POST', url: '/console/session', payload: { token: ADMIN_TOKEN } });
          expect(signIn, 200);
          const cookie = String(signIn.headers['set-cookie']).split(';')[0] as string;
          const cookieValue = cookie.split('=')[1] as string;
          assert.ok(cookieValue.length >= 16);
          cookies.push(cookie, cookieValue);
          expect(await app.inject({ method: 'GET', url: '/console/session', headers: { cookie } }), 200);
          expect(await app.inject({ method: 'GET', url: '/admin/v1/subscribers', headers: { cookie } }), 200);
          expect(await app.inject({ method: 'GET', url: '/admin/v1/subscribers', headers: { cookie: `${cookie}x` } }), 401);
          // Let the worker process the event (its log lines count too).
          for (let i = 0; i < 100; i++) {
            const status = await partner(basic('leaky', PASSWORD), 'GET', `${EVENTS_URL}/${requestId}`);
            if ((status.json() as { status: string }).status !== 'RECEIVED') break;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        } finally {
          await app.close();
        }
        // The lines were written (the test would see a leak): one access line per request.
        if (level === 'trace' || level === 'debug' || level === 'info') assert.ok(text.includes('request completed'), 'no access lines');
        const hashes = (
          await tdb.db.kysely.selectFrom('subscribers').select(['password_hash', 'previous_password_hash']).execute()
        ).flatMap((r) => [r.password_hash, r.previous_password_hash].filter((h): h is string => h !== null));
        assertClean(text, [...cookies, ...hashes], `level ${level}`);
      });
    }

    test('the redaction paths: objects that carry credentials are censored, should a line ever log them', () => {
      let text = '';
      const stream = new Writable({
        write(chunk, _encoding, done) {
          text += chunk.toString();
          done();
        },
      });
      const log = pino(loggerOptions('trace'), stream);
      const auth = basic('leaky', PASSWORD);
      log.info({ req: { headers: { authorization: auth, cookie: 'dgw_session=abcdefghijklmnopqrstuvwxyz' } } }, 'a request');
      log.info({ headers: { authorization: `Bearer ${ADMIN_TOKEN}`, cookie: 'dgw_session=abcdefghijklmnopqrstuvwxyz' } }, 'headers');
      log.info({ res: { headers: { 'set-cookie': 'dgw_session=abcdefghijklmnopqrstuvwxyz; HttpOnly' } } }, 'an answer');
      log.info(
        { body: { token: ADMIN_TOKEN, password: PASSWORD }, subscriber: { password: PASSWORD, password_hash: 'scrypt$1$2' } },
        'bodies',
      );
      log.info({ authorization: auth, token: ADMIN_TOKEN, password: PASSWORD, cookie: 'dgw_session=abcdefghijklmnopqrstuvwxyz' }, 'flat');
      assert.equal(text.split('\n').filter(Boolean).length, 5);
      assert.ok(text.includes('[redacted]'));
      assertClean(text, ['abcdefghijklmnopqrstuvwxyz'], 'redaction');
    });

    test('the CLI: apply with passwords at level trace', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dg-secrets-'));
      try {
        const file = join(dir, 'partners.json');
        writeFileSync(
          file,
          JSON.stringify({
            subscribers: [{ username: 'cli-partner', password: CLI_PASSWORD, grants: [{ scope: 'lead.read', dealers: '*' }] }],
          }),
        );
        const result = await run(['apply', file], { DATABASE_URL: tdb.url, LOG_LEVEL: 'trace' });
        assert.equal(result.code, 0, show(result));
        const hashes = (await tdb.db.kysely.selectFrom('subscribers').select('password_hash').execute()).map((r) => r.password_hash);
        assertClean(result.stdout + result.stderr, hashes, 'apply');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
