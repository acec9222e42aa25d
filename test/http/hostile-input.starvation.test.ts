// One partner cannot starve the others: a credential's stalled uploads hold at most its share of
// MAX_IN_FLIGHT (MAX_IN_FLIGHT_PER_CLIENT), bodies that stop arriving are cut with 408 after
// BODY_IDLE_TIMEOUT_MS, and meanwhile a second partner's requests are all answered 200 at normal
// latency. Real sockets on a listening app, both databases.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { EVENTS_URL, eventsFixture, PASSWORD } from '../helpers/events.js';
import { parseRawAnswer, type RawAnswer } from '../helpers/raw-http.js';
import { basic, describeEachDialect, waitFor } from '../helpers/suite.js';

const ATTACKER = basic('partner', PASSWORD);
const VICTIM = basic('multi-partner', PASSWORD);
const VICTIM_BODY = JSON.stringify({ dealer_uuid: 'EXT-1', chat_code: 'FAIR-1', summary: 'Still served.' });

interface Stalled {
  readonly socket: Socket;
  received(): string;
  closed(): boolean;
}

/** Sends a gate request's headers declaring `Content-Length: 60000`, then only 10 bytes of body. */
function stalledUpload(port: number, authorization: string, url = EVENTS_URL): Promise<Stalled> {
  return new Promise((resolve, reject) => {
    let data = '';
    let isClosed = false;
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `POST ${url} HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"a":"bbbb`,
      );
      resolve({ socket, received: () => data, closed: () => isClosed });
    });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      isClosed = true;
    });
    socket.once('error', reject);
  });
}

function answerOf(stalled: Stalled): RawAnswer {
  return parseRawAnswer(stalled.received());
}

/** One gate POST on a keep-alive agent: its status and how long it took. */
function post(port: number, agent: Agent, authorization: string, body: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: EVENTS_URL,
        method: 'POST',
        agent,
        headers: { authorization, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as { port: number }).port;
}

// The idle cut is set as long as the request timeout here, so only the share protects the victim.
describeEachDialect(
  'fair admission: 300 stalled uploads from one credential',
  { fixture: eventsFixture, env: { BODY_IDLE_TIMEOUT_MS: '30000' } },
  (ctx) => {
    let port: number;
    const stalled: Stalled[] = [];
    before(async () => {
      port = await listen(ctx().app);
    });
    // Before the app closes (it waits for requests in progress).
    afterEach(() => {
      for (const s of stalled) s.socket.destroy();
    });

    test('hold at most MAX_IN_FLIGHT_PER_CLIENT (64) places; the rest get 429; a second partner gets 100 × 200', async (t) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 10 });
      // The credential's scrypt check is cached first, as a running attacker's would be.
      assert.equal((await post(port, agent, ATTACKER, '{"dealer_uuid":"P-100"}')).status, 200);
      for (let i = 0; i < 300; i++) stalled.push(await stalledUpload(port, ATTACKER));
      // The service has answered every upload over the share.
      await waitFor('236 uploads refused', async () => stalled.filter((s) => s.received() !== '').length >= 236, 10_000);
      const refused = stalled.filter((s) => s.received() !== '').map(answerOf);
      assert.equal(refused.length, 236, 'exactly 300 - 64 uploads are answered before their body arrived');
      for (const answer of refused) {
        assert.equal(answer.status, 429, JSON.stringify(answer));
        assert.equal(answer.headers['retry-after'], '1');
        assert.equal(answer.headers.connection, 'close');
        assert.deepEqual(
          JSON.parse(answer.body).errors.map((e: { errorCode: string }) => e.errorCode),
          ['TOO_MANY_REQUESTS'],
        );
      }
      assert.equal(ctx().app.inFlight(), 64);

      // The other partner, 100 requests 10 at a time, while 64 uploads stay stalled.
      const results: { status: number; ms: number }[] = [];
      for (let round = 0; round < 10; round++) {
        results.push(...(await Promise.all(Array.from({ length: 10 }, () => post(port, agent, VICTIM, VICTIM_BODY)))));
      }
      agent.destroy();
      const ok = results.filter((r) => r.status === 200).length;
      const p99 = percentile(
        results.map((r) => r.ms),
        99,
      );
      t.diagnostic(`second partner during the attack: ${ok}/100 answered 200, p99 ${p99.toFixed(1)} ms`);
      assert.deepEqual(
        results.map((r) => r.status),
        Array(100).fill(200),
      );
      // Served, not queued behind the stalled uploads (they hold their places for 30 s). The
      // figure itself is a few ms on a quiet machine; the bound leaves room for a busy CI.
      assert.ok(p99 < 5000, `p99 ${p99} ms`);
      assert.equal(stalled.filter((s) => s.received() === '').length, 64, 'the 64 admitted uploads are still waiting for their bodies');
    });
  },
);

describeEachDialect(
  'body idle timeout: a body that stops arriving is cut',
  { fixture: eventsFixture, env: { BODY_IDLE_TIMEOUT_MS: '500' } },
  (ctx) => {
    let port: number;
    before(async () => {
      port = await listen(ctx().app);
    });

    test('no body byte for BODY_IDLE_TIMEOUT_MS → 408 REQUEST_TIMEOUT in the envelope, Connection: close, its place freed', async () => {
      const started = Date.now();
      const upload = await stalledUpload(port, ATTACKER);
      await waitFor('the 408', async () => upload.received().includes('}'), 5_000);
      const elapsed = Date.now() - started;
      const answer = answerOf(upload);
      assert.equal(answer.status, 408, JSON.stringify(answer));
      assert.equal(answer.headers.connection, 'close');
      assert.deepEqual(
        JSON.parse(answer.body).errors.map((e: { errorCode: string }) => e.errorCode),
        ['REQUEST_TIMEOUT'],
      );
      assert.ok(elapsed >= 450 && elapsed < 3000, `cut after ${elapsed} ms`);
      assert.equal(ctx().app.inFlight(), 0);
      // The client sends nothing more: the lingering connection is closed soon after.
      await waitFor('the connection to close', async () => upload.closed(), 5_000);
    });

    test('a body that keeps arriving slower than the whole timeout but faster than the idle cut is served', async () => {
      const body = JSON.stringify({ dealer_uuid: 'P-100', chat_code: 'SLOW-1', summary: 'x'.repeat(40) });
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        data += chunk;
      });
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\nAuthorization: ${ATTACKER}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      // Four pieces 300 ms apart: 1.2 s in all, more than twice the idle timeout.
      for (let i = 0; i < 4; i++) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        socket.write(body.slice((i * body.length) / 4, ((i + 1) * body.length) / 4));
      }
      await waitFor('the answer', async () => data.includes('}'), 5_000);
      socket.destroy();
      assert.equal(parseRawAnswer(data).status, 200, data);
    });
  },
);

describeEachDialect(
  'fair admission before authentication: one address',
  { fixture: eventsFixture, env: { MAX_IN_FLIGHT_PER_CLIENT: '2', BODY_IDLE_TIMEOUT_MS: '30000' } },
  (ctx) => {
    let port: number;
    const stalled: Stalled[] = [];
    before(async () => {
      port = await listen(ctx().app);
    });
    afterEach(() => {
      for (const s of stalled) s.socket.destroy();
    });

    test('unauthenticated bodies (console sign-in) share one address: the third gets 429; partners are unaffected', async () => {
      for (let i = 0; i < 3; i++) stalled.push(await stalledUpload(port, '', '/console/session'));
      await waitFor('one sign-in refused', async () => stalled.some((s) => s.received() !== ''), 5_000);
      const refused = stalled.filter((s) => s.received() !== '').map(answerOf);
      assert.equal(refused.length, 1);
      assert.equal(refused[0]?.status, 429, JSON.stringify(refused[0]));
      const agent = new Agent({ keepAlive: true });
      const answer = await post(port, agent, VICTIM, VICTIM_BODY);
      agent.destroy();
      assert.equal(answer.status, 200);
    });
  },
);
