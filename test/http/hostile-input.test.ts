// Hostile input at every layer: text that is not text (lone surrogates, invalid UTF-8), odd
// Content-Types at the gate, lenient Basic tokens, methods without routes, and answers Node's and
// Fastify's own layers give before our handlers run. Every answer carries its family's envelope.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loggerOptions } from '../../src/core/logger.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { countRows, PASSWORD as EVENTS_PASSWORD, EVENTS_URL, eventsFixture, sendEvent } from '../helpers/events.js';
import { baseFixture, leadBody, PASSWORD } from '../helpers/fixtures.js';
import { parseRawAnswer, type RawAnswer, rawExchange } from '../helpers/raw-http.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const multi = basic('multi', PASSWORD);
const LEADS_URL = '/leads/v2/dealer/d-1';

describeEachDialect('lone surrogates and invalid UTF-8 in leads', { fixture: baseFixture }, (ctx) => {
  const save = (payload: string | Buffer | object) =>
    ctx().app.inject({
      method: 'POST',
      url: LEADS_URL,
      headers: { authorization: multi, 'content-type': 'application/json' },
      payload: typeof payload === 'object' && !Buffer.isBuffer(payload) ? JSON.stringify(payload) : payload,
    });

  test('"SUR-1\\ud800", "SUR-1\\udbff" → 400 naming leadId; "SUR-1\\ufffd" is its own new lead (PostgreSQL used to merge them)', async () => {
    for (const leadId of ['SUR-1\ud800', 'SUR-1\udbff']) {
      const res = await save(leadBody({ leadId }));
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().errorCode, 'VALIDATION_FAILED');
      assert.match(res.json().message, /'leadId'.*lone UTF-16 surrogate/);
    }
    const replacement = await save(leadBody({ leadId: 'SUR-1\ufffd' }));
    assert.equal(replacement.statusCode, 200, replacement.body);
    assert.equal(replacement.json().isNewCreated, true);
    const again = await save(leadBody({ leadId: 'SUR-1\ufffd' }));
    assert.equal(again.json().isNewCreated, false);
    assert.equal(again.json().prospectUuid, replacement.json().prospectUuid);
  });

  test('a lone surrogate in a key or a nested field → 400 naming where', async () => {
    const inKey = await save(leadBody({ 'x\udc00': 1 }));
    assert.equal(inKey.statusCode, 400, inKey.body);
    assert.match(inKey.json().message, /surrogate/);
    const nested = await save(leadBody({ services: [{ code: 'A\udfff' }] }));
    assert.equal(nested.statusCode, 400, nested.body);
    assert.match(nested.json().message, /'services\[0\]\.code'.*surrogate/);
  });

  test('a properly paired surrogate (an emoji) is text and is accepted', async () => {
    const res = await save(leadBody({ leadId: 'EMOJI-😀' }));
    assert.equal(res.statusCode, 200, res.body);
  });

  test('invalid UTF-8 bytes in a lead body → 400 INVALID_JSON, nothing stored', async () => {
    const before = await ctx()
      .tdb.db.kysely.selectFrom('leads')
      .select(ctx().tdb.db.kysely.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const json = JSON.stringify(leadBody({ leadId: 'BYTES-XX' }));
    const bytes = Buffer.from(json, 'utf8');
    const at = bytes.indexOf('XX');
    bytes[at] = 0xff;
    bytes[at + 1] = 0xfe;
    const res = await save(bytes);
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().errorCode, 'INVALID_JSON');
    assert.match(res.json().message, /UTF-8/);
    const afterCount = await ctx()
      .tdb.db.kysely.selectFrom('leads')
      .select(ctx().tdb.db.kysely.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(afterCount.n), Number(before.n));
  });

  test('a lone surrogate in a path parameter → 400 in the leads envelope', async () => {
    const res = await ctx().app.inject({ method: 'GET', url: '/leads/v2/dealer/d-1/lead/%ED%A0%80', headers: { authorization: multi } });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(typeof res.json().errorCode, 'string');
  });
});

describeEachDialect('hostile input at the event gate', { fixture: eventsFixture }, (ctx) => {
  test('a lone surrogate in a value or a key → 400 VALIDATION_FAILED naming the field, nothing stored', async () => {
    const before = await countRows(ctx().tdb.db.kysely, 'events');
    for (const [body, field] of [
      ['{"dealer_uuid":"d-1","summary":"x\\ud800"}', 'summary'],
      ['{"dealer_uuid":"d-1","\\udfffkey":1}', 'key'],
      ['{"dealer_uuid":"d-1","line_items":[{"description":"\\udbff"}]}', 'line_items[0].description'],
    ] as const) {
      const res = await sendEvent(ctx().app, body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().errors[0].errorCode, 'VALIDATION_FAILED');
      assert.match(res.json().errors[0].errorMessage, new RegExp(`${field.replace(/[[\]]/g, '\\$&')}.*surrogate`));
    }
    assert.equal(await countRows(ctx().tdb.db.kysely, 'events'), before);
  });

  test('an empty, blank or list-valued Content-Type is accepted like any other (was 415)', async () => {
    for (const contentType of ['', '   ', 'application/json, text/plain', ';;;', 'text/plain']) {
      const res = await sendEvent(ctx().app, { dealer_uuid: 'd-1', summary: `ct ${JSON.stringify(contentType)}` }, { contentType });
      assert.equal(res.statusCode, 200, `${JSON.stringify(contentType)}: ${res.body}`);
    }
  });

  test('lenient Basic tokens → 401 MALFORMED_CREDENTIALS (two of them used to authenticate)', async () => {
    const padded = Buffer.from(`multi-partner:${EVENTS_PASSWORD}`).toString('base64');
    const token = padded.replace(/=+$/, '');
    assert.ok(token.endsWith('E'), 'the fixture password leaves two spare bits in the last character');
    for (const [label, bad] of [
      // One more character decodes to the password plus a zero byte, which scrypt's HMAC cannot
      // tell from the password itself.
      ['unpadded + "A"', `${token}A`],
      // The spare bits of the last character set: Node decodes the same bytes.
      ['non-canonical last character', `${token.slice(0, -1)}F`],
      ['padded + one character', `${padded}A`],
      ['a length no base64 has', `${token}AA`],
    ] as const) {
      const res = await ctx().app.inject({
        method: 'POST',
        url: EVENTS_URL,
        headers: { authorization: `Basic ${bad}`, 'content-type': 'application/json' },
        payload: '{"dealer_uuid":"d-1"}',
      });
      assert.equal(res.statusCode, 401, `${label}: ${res.body}`);
      assert.equal(res.json().errors[0].errorCode, 'MALFORMED_CREDENTIALS', label);
    }
    for (const good of [padded, token]) {
      const ok = await ctx().app.inject({
        method: 'POST',
        url: EVENTS_URL,
        headers: { authorization: `Basic ${good}`, 'content-type': 'application/json' },
        payload: '{"dealer_uuid":"d-1"}',
      });
      assert.equal(ok.statusCode, 200, ok.body);
    }
  });

  test('Basic credentials that are not UTF-8 → 401 MALFORMED_CREDENTIALS', async () => {
    const token = Buffer.concat([Buffer.from('multi-partner:'), Buffer.from([0xff, 0xfe])]).toString('base64');
    const res = await ctx().app.inject({ method: 'GET', url: `${EVENTS_URL}/x`, headers: { authorization: `Basic ${token}` } });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().errors[0].errorCode, 'MALFORMED_CREDENTIALS');
  });
});

describeEachDialect('methods without a route', { fixture: baseFixture }, (ctx) => {
  test('DELETE with a JSON Content-Type and no body → 405 with Allow, not 400 INVALID_JSON', async () => {
    const res = await ctx().app.inject({
      method: 'DELETE',
      url: LEADS_URL,
      headers: { 'content-type': 'application/json', authorization: multi },
    });
    assert.equal(res.statusCode, 405, res.body);
    assert.equal(res.json().errorCode, 'METHOD_NOT_ALLOWED');
    assert.equal(res.headers.allow, 'POST');
    assert.ok(res.headers['x-request-id']);
  });

  test('OPTIONS with a JSON Content-Type and no body → 204 with Allow', async () => {
    const res = await ctx().app.inject({
      method: 'OPTIONS',
      url: '/leads/v2/dealer/d-1/lead/p-1',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.statusCode, 204, res.body);
    assert.equal(res.headers.allow, 'GET, HEAD');
  });

  test('an unknown path with an unparseable body → 404 NOT_FOUND, not 400', async () => {
    const res = await ctx().app.inject({
      method: 'POST',
      url: '/leads/v3/nope',
      headers: { 'content-type': 'application/json' },
      payload: '{nope',
    });
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.json().errorCode, 'NOT_FOUND');
  });

  test('a 101- and a 2,000-character path parameter → 400 VALIDATION_FAILED like a 100-character one (was 414)', async () => {
    for (const length of [100, 101, 2000]) {
      const res = await ctx().app.inject({
        method: 'POST',
        url: `/leads/v2/dealer/${'d'.repeat(length)}`,
        headers: { authorization: multi },
        payload: leadBody(),
      });
      assert.equal(res.statusCode, 400, `${length}: ${res.body}`);
      assert.equal(res.json().errorCode, 'VALIDATION_FAILED');
      assert.match(res.json().message, /dealerUuid/);
      assert.ok(res.headers['x-request-id']);
    }
  });

  test('a trailing slash → 404 NOT_FOUND (was a 405 whose Allow named the refused method)', async () => {
    for (const [method, url] of [
      ['POST', `${LEADS_URL}/`],
      ['POST', `${EVENTS_URL}/`],
      ['GET', '/leads/v2/dealer/d-1/lead/p-1/'],
    ] as const) {
      const res = await ctx().app.inject({
        method,
        url,
        headers: { authorization: multi, 'content-type': 'application/json' },
        payload: '{}',
      });
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
      assert.equal(res.headers.allow, undefined, `${method} ${url}`);
    }
    const lead = await ctx().app.inject({ method: 'POST', url: `${LEADS_URL}/`, headers: { authorization: multi }, payload: leadBody() });
    assert.equal(lead.json().errorCode, 'NOT_FOUND');
    const event = await ctx().app.inject({ method: 'POST', url: `${EVENTS_URL}/`, payload: {} });
    assert.deepEqual(
      event.json().errors.map((e: { errorCode: string }) => e.errorCode),
      ['NOT_FOUND'],
    );
  });

  test('bad percent-encoding → 400 MALFORMED_REQUEST in the leads envelope, with X-Request-Id (was FST_ERR_BAD_URL)', async () => {
    const res = await ctx().app.inject({
      method: 'POST',
      url: '/leads/v2/dealer/%zz',
      headers: { authorization: multi },
      payload: leadBody(),
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().errorCode, 'MALFORMED_REQUEST');
    assert.equal(res.json().path, '/leads/v2/dealer/%zz');
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });
});

// Answers given by Node's HTTP parser, before Fastify has a request: only a real socket shows them.

/**
 * A lead POST declaring `size` bytes, sent in 64 KB writes 1 ms apart as a client on a real
 * network would, reading the answer as it comes; the connection is closed once an answer is read.
 */
function oversizedUpload(port: number, size: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let received = '';
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /leads/v2/dealer/d-1 HTTP/1.1\r\nHost: x\r\nAuthorization: ${multi}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
      );
      const pump = () => {
        if (sent >= size || !socket.writable) return;
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (socket.write(chunk.subarray(0, n))) setTimeout(pump, 1);
        else socket.once('drain', pump);
      };
      pump();
    });
    const done = (why: string) => {
      const answer = parseRawAnswer(received);
      resolve(answer.status === 0 ? { ...answer, statusLine: why } : answer);
      socket.destroy();
    };
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      received += data;
      const answer = parseRawAnswer(received);
      if (answer.status !== 0 && Buffer.byteLength(answer.body) >= Number(answer.headers['content-length'] ?? 0)) done('answered');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    socket.on('close', () => done('closed'));
    socket.setTimeout(10_000, () => done('timeout'));
  });
}

describe('answers before our handlers run, on a real socket [sqlite]', () => {
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let port: number;
  const logLines: string[] = [];
  before(async () => {
    tdb = await createTestDatabase('sqlite');
    const stream = { write: (line: string) => void logLines.push(line) };
    app = await buildApp(tdb.config, { db: tdb.db, logger: { ...loggerOptions('info'), stream } as ReturnType<typeof loggerOptions> });
    await applyProvisioning(tdb.db.kysely, baseFixture);
    await app.directory.refresh();
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  after(async () => {
    await app.close();
    await tdb.destroy();
  });

  const assertEnvelope = (answer: RawAnswer, status: number, family: 'leads' | 'events' | 'plain', code: string) => {
    assert.equal(answer.status, status, JSON.stringify(answer));
    assert.match(answer.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/, JSON.stringify(answer.headers));
    assert.match(answer.headers['content-type'] ?? '', /application\/json/);
    const body = JSON.parse(answer.body);
    if (family === 'leads') {
      assert.equal(body.errorCode, code);
      assert.equal(body.status, status);
    } else if (family === 'events') {
      assert.deepEqual(
        body.errors.map((e: { errorCode: string }) => e.errorCode),
        [code],
      );
      assert.equal(body.requestId, null);
    } else {
      assert.equal(body.error.code, code);
      assert.equal(body.error.requestId, answer.headers['x-request-id']);
    }
  };

  test('headers over 16 KB → 431 HEADERS_TOO_LARGE in the family envelope (was a bare Fastify body)', async () => {
    const big = `x-big: ${'a'.repeat(20_000)}\r\n`;
    assertEnvelope(
      await rawExchange(port, `GET /leads/v2/dealer/d-1 HTTP/1.1\r\nHost: x\r\n${big}\r\n`),
      431,
      'leads',
      'HEADERS_TOO_LARGE',
    );
    assertEnvelope(await rawExchange(port, `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\n${big}\r\n`), 431, 'events', 'HEADERS_TOO_LARGE');
    assertEnvelope(await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: x\r\n${big}\r\n`), 431, 'plain', 'HEADERS_TOO_LARGE');
  });

  test('a URL over 16 KB → 431 in the family envelope', async () => {
    const answer = await rawExchange(port, `GET /leads/v2/dealer/${'d'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assertEnvelope(answer, 431, 'leads', 'HEADERS_TOO_LARGE');
  });

  test('unparseable HTTP → 400 MALFORMED_REQUEST (was {"message":"Client Error"})', async () => {
    assertEnvelope(
      await rawExchange(port, `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n`),
      400,
      'events',
      'MALFORMED_REQUEST',
    );
    assertEnvelope(await rawExchange(port, 'GARBAGE\r\n\r\n'), 400, 'plain', 'MALFORMED_REQUEST');
    assertEnvelope(
      await rawExchange(port, 'POST /leads/v2/dealer/d-1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n'),
      400,
      'leads',
      'MALFORMED_REQUEST',
    );
  });

  test('a lower-case method → 400 MALFORMED_REQUEST in the envelope of the path it names (was the plain one)', async () => {
    assertEnvelope(await rawExchange(port, 'get /leads/v2/dealer/d-1 HTTP/1.1\r\nHost: x\r\n\r\n'), 400, 'leads', 'MALFORMED_REQUEST');
    assertEnvelope(await rawExchange(port, `post ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\n\r\n`), 400, 'events', 'MALFORMED_REQUEST');
    assertEnvelope(await rawExchange(port, 'Get /healthz HTTP/1.1\r\nHost: x\r\n\r\n'), 400, 'plain', 'MALFORMED_REQUEST');
  });

  test('a body 1 MiB over the limit, sent without Expect in 64 KB writes → the 413 is read every time (40 of 40)', async () => {
    // Before lingering close, the connection closed with request bytes unread and the kernel's
    // reset lost the answer (EPIPE or ECONNRESET on the client) in 9–40 of 40 tries.
    const size = 2 * 1024 * 1024 + 100;
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      const answer = await oversizedUpload(port, size);
      if (answer.status === 413) assertEnvelope(answer, 413, 'leads', 'PAYLOAD_TOO_LARGE');
      outcomes.push(answer.status === 0 ? `no answer (${answer.statusLine})` : String(answer.status));
    }
    assert.deepEqual(outcomes, Array(40).fill('413'));
  });

  test('an HTTP/1.1 request without Host → 400 MALFORMED_REQUEST in the envelope (was a bare 400 with no body)', async () => {
    assertEnvelope(await rawExchange(port, 'GET /leads/v2/dealer/d-1/lead/p HTTP/1.1\r\n\r\n'), 400, 'leads', 'MALFORMED_REQUEST');
  });

  test('an unknown Expect → served normally (was a bare 417)', async () => {
    const answer = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: something\r\nConnection: close\r\n\r\n');
    assert.equal(answer.status, 200, JSON.stringify(answer));
    assert.deepEqual(JSON.parse(answer.body), { status: 'ok' });
  });

  test('a client that disconnects mid-body is logged once at info, not as a 5xx with a stack', async () => {
    logLines.length = 0;
    const body = JSON.stringify(leadBody({ leadId: 'gone' }));
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /leads/v2/dealer/d-1 HTTP/1.1\r\nHost: x\r\nAuthorization: ${multi}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
      socket.on('error', reject);
    });
    const deadline = Date.now() + 3000;
    const parsed = () => logLines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown });
    while (!parsed().some((l) => /client closed/.test(l.msg)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const lines = parsed();
    const closed = lines.filter((l) => /client closed/.test(l.msg));
    assert.equal(closed.length, 1, JSON.stringify(lines));
    assert.equal(closed[0]?.level, 30);
    assert.deepEqual(
      lines.filter((l) => l.level >= 50),
      [],
    );
    assert.ok(!logLines.join('').includes('SERVICE_UNAVAILABLE'));
  });
});
