// CONNECT and Upgrade over a real socket. Node hands CONNECT to the server's 'connect' listener,
// never to the router, and with no listener closed the connection without a word; it now gets a
// 405 METHOD_NOT_ALLOWED in the path family's envelope, `Connection: close`, and the socket is
// closed. Upgrade requests (WebSocket, h2c) have no 'upgrade' listener, so Node serves them as
// ordinary requests: the route's own answer.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { before, test } from 'node:test';
import { EVENTS_URL } from '../helpers/events.js';
import { baseFixture } from '../helpers/fixtures.js';
import { type RawAnswer, rawExchange } from '../helpers/raw-http.js';
import { describeEachDialect } from '../helpers/suite.js';

describeEachDialect('CONNECT and Upgrade on a real socket', { fixture: baseFixture }, (ctx) => {
  let port = 0;
  before(async () => {
    await ctx().app.listen({ port: 0, host: '127.0.0.1' });
    port = (ctx().app.server.address() as { port: number }).port;
  });

  const assertConnectRefused = (answer: RawAnswer) => {
    assert.equal(answer.status, 405, JSON.stringify(answer));
    assert.equal(answer.statusLine, 'HTTP/1.1 405 Method Not Allowed');
    assert.equal(answer.headers.connection, 'close');
    assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
    assert.match(answer.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(Number(answer.headers['content-length']), Buffer.byteLength(answer.body));
  };

  test('CONNECT host:443 → 405 METHOD_NOT_ALLOWED in the plain envelope, Connection: close, then closed (was closed with no answer)', async () => {
    // The client does not half-close: the server itself must close the connection.
    const answer = await rawExchange(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', { halfClose: false });
    assertConnectRefused(answer);
    assert.equal(answer.headers.allow, '', 'a host:port target has no methods');
    const body = JSON.parse(answer.body);
    assert.deepEqual(Object.keys(body), ['error']);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'requestId']);
    assert.equal(body.error.code, 'METHOD_NOT_ALLOWED');
    assert.equal(body.error.requestId, answer.headers['x-request-id']);
    assert.match(body.error.message, /CONNECT is not allowed on example\.com:443; this service is not a proxy/);
  });

  test('CONNECT followed at once by tunnel bytes (a TLS ClientHello) → the same 405', async () => {
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...Array(200).fill(0x41)]);
    const answer = await rawExchange(port, Buffer.concat([Buffer.from('CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n'), hello]), {
      halfClose: false,
    });
    assertConnectRefused(answer);
    assert.equal(JSON.parse(answer.body).error.code, 'METHOD_NOT_ALLOWED');
  });

  test("CONNECT to a path the service routes → 405 in that path's family envelope, Allow listing its methods", async () => {
    const leads = await rawExchange(port, 'CONNECT /leads/v2/dealer/d-1 HTTP/1.1\r\nHost: x\r\n\r\n');
    assertConnectRefused(leads);
    assert.equal(leads.headers.allow, 'POST');
    const leadsBody = JSON.parse(leads.body);
    assert.equal(leadsBody.errorCode, 'METHOD_NOT_ALLOWED');
    assert.equal(leadsBody.status, 405);
    assert.equal(leadsBody.path, '/leads/v2/dealer/d-1');

    const events = await rawExchange(port, `CONNECT ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assertConnectRefused(events);
    assert.equal(events.headers.allow, 'POST');
    assert.deepEqual(JSON.parse(events.body), {
      errors: [{ errorCode: 'METHOD_NOT_ALLOWED', errorMessage: `CONNECT is not allowed on ${EVENTS_URL}; allowed: POST` }],
      warnings: [],
      requestId: null,
    });

    const health = await rawExchange(port, 'CONNECT /healthz?x=1 HTTP/1.1\r\nHost: x\r\n\r\n');
    assertConnectRefused(health);
    assert.equal(health.headers.allow, 'GET, HEAD');
    assert.equal(JSON.parse(health.body).error.code, 'METHOD_NOT_ALLOWED');
  });

  test('a client that resets the connection right after CONNECT does not take the process down', async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write('CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n');
          setTimeout(() => {
            socket.resetAndDestroy();
            resolve();
          }, 5 * i);
        });
        socket.on('error', () => {});
      });
    }
    await new Promise((r) => setTimeout(r, 100));
    const answer = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(answer.status, 200, JSON.stringify(answer));
  });

  test('Upgrade requests (WebSocket, h2c) are served as ordinary requests: the route answers', async () => {
    const websocket =
      'Host: x\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    const health = await rawExchange(port, `GET /healthz HTTP/1.1\r\n${websocket}\r\n`);
    assert.equal(health.status, 200, JSON.stringify(health));
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });

    const missing = await rawExchange(port, `GET /nope HTTP/1.1\r\n${websocket}\r\n`);
    assert.equal(missing.status, 404, JSON.stringify(missing));
    assert.equal(JSON.parse(missing.body).error.code, 'NOT_FOUND');

    // Keep-alive and half-open: the answer still comes, on a connection the client ends.
    const gate = await rawExchange(
      port,
      `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    assert.equal(gate.status, 401, JSON.stringify(gate));
    assert.equal(JSON.parse(gate.body).errors[0].errorCode, 'NULL_CREDENTIALS');
    assert.ok(gate.headers['www-authenticate']);
  });
});
