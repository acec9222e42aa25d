// Focused regressions for the defects the property-based suite (hostile-input.fuzz.test.ts) found.
// Each names the request that used to fail and the answer the contract gives instead.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { countRows, PASSWORD as EVENTS_PASSWORD, EVENTS_URL, eventsFixture } from '../helpers/events.js';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef';
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
const cursorOf = (json: string) => Buffer.from(json, 'utf8').toString('base64url');

describeEachDialect('hostile input regressions', { fixture: eventsFixture, env: { ADMIN_TOKEN } }, (ctx) => {
  test('a forged admin cursor holding U+0000 or a lone surrogate → 400 VALIDATION_FAILED (U+0000 was a 500 on PostgreSQL)', async () => {
    for (const [url, key] of [
      ['/admin/v1/dealers', '["\\u0000"]'],
      ['/admin/v1/dealers/d-1/customers', '["a\\u0000"]'],
      ['/admin/v1/subscribers', '["x\\ud800"]'],
      ['/admin/v1/integrations', '["a","\\u0000"]'],
      ['/admin/v1/events', '[1,"\\u0000"]'],
      ['/admin/v1/dealers/d-1/chat-summaries', '[1,"\\u0000"]'],
      ['/admin/v1/dealers/d-1/leads', '[1,"\\udfff"]'],
    ] as const) {
      const res = await ctx().app.inject({ method: 'GET', url: `${url}?cursor=${cursorOf(key)}`, headers: bearer });
      assert.equal(res.statusCode, 400, `${url} ${key}: ${res.body}`);
      assert.equal(res.json().error.code, 'VALIDATION_FAILED');
      assert.match(res.json().error.message, /cursor/);
    }
  });

  test('a cursor this API returned still pages', async () => {
    const first = await ctx().app.inject({ method: 'GET', url: '/admin/v1/dealers?limit=1', headers: bearer });
    assert.equal(first.statusCode, 200, first.body);
    const next = first.json().nextCursor as string;
    assert.equal(typeof next, 'string');
    const second = await ctx().app.inject({ method: 'GET', url: `/admin/v1/dealers?limit=1&cursor=${next}`, headers: bearer });
    assert.equal(second.statusCode, 200, second.body);
    assert.notEqual(second.json().items[0].uuid, first.json().items[0].uuid);
  });
});

describeEachDialect('hostile input regressions: leads', { fixture: baseFixture }, (ctx) => {
  const headers = { authorization: basic('multi', PASSWORD), 'content-type': 'application/json' };
  const save = (lastContactDate: string, leadId: string) =>
    ctx().app.inject({ method: 'POST', url: '/leads/v2/dealer/d-1', headers, payload: leadBody({ lastContactDate, leadId }) });

  test('a lastContactDate whose UTC instant is in year 10000 → 400 (was saved and read back as "+010000-01-01 13:59Z")', async () => {
    for (const date of ['9999-12-31 23:59:59-14:00', '9999-12-31 23:59:59-00:01', '9999-12-31 10:00:00-18']) {
      const res = await save(date, `Y10K-${date}`);
      assert.equal(res.statusCode, 400, `${date}: ${res.body}`);
      assert.equal(res.json().errorCode, 'VALIDATION_FAILED');
      assert.match(res.json().message, /lastContactDate/);
    }
  });

  test('the last writable instants are saved and read back in the documented format', async () => {
    for (const [date, readBack] of [
      ['9999-12-31 23:59:59Z', '9999-12-31 23:59:59Z'],
      ['9999-12-31 23:59:59+14:00', '9999-12-31 09:59:59Z'],
    ] as const) {
      const saved = await save(date, `EDGE-${date}`);
      assert.equal(saved.statusCode, 200, `${date}: ${saved.body}`);
      const res = await ctx().app.inject({
        method: 'GET',
        url: `/leads/v2/dealer/d-1/lead/${saved.json().prospectUuid}`,
        headers: { authorization: headers.authorization },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().lead.lastContactDate, readBack);
    }
  });
});

/** Sends `request` and half-closes at once (shutdown of the write side), then reads to the end. */
function halfClosedExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.end(request);
  });
}

describeEachDialect('hostile input regressions: half-closed sockets', { fixture: eventsFixture }, (ctx) => {
  test('a client that half-closes after its whole request still gets the answer; the event it acknowledges is the one stored (was: stored, never answered)', async () => {
    const app = ctx().app;
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const authorization = basic('multi-partner', EVENTS_PASSWORD);
    const head = `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nConnection: close\r\n`;
    const before = await countRows(ctx().tdb.db.kysely, 'events');
    // The first request checks the password (scrypt, tens of ms): the half-close arrives while the
    // request is still in progress, which is what used to abort it.
    const answers = [
      await halfClosedExchange(port, `${head}Transfer-Encoding: chunked\r\n\r\n5\r\n{"dea\r\n10\r\nler_uuid":"d-1"}\r\n0\r\n\r\n`),
      await halfClosedExchange(port, `${head}Content-Length: 21\r\n\r\n{"dealer_uuid":"d-1"}`),
      await halfClosedExchange(port, `${head}Expect: 100-continue\r\nContent-Length: 21\r\n\r\n{"dealer_uuid":"d-1"}`),
    ];
    const requestIds = answers.map((answer) => {
      const final = answer.replace(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n\r\n)+/, '');
      assert.match(final, /^HTTP\/1\.1 200 /, answer);
      return JSON.parse(final.slice(final.indexOf('\r\n\r\n') + 4)).requestId as string;
    });
    assert.equal(new Set(requestIds).size, 3);
    assert.equal(await countRows(ctx().tdb.db.kysely, 'events'), before + 3);
  });
});
