// The service as a real process (`bin/dealer-gateway.js serve`, worker in-process, JSON logs on
// stdout): it refuses to start on a port in use, stops when `npm start` is signalled, shuts down
// gracefully under load on both dialects, sheds load past MAX_IN_FLIGHT, and closes slow or idle
// connections in time. Nothing here measures speed: every deadline only bounds how long a test
// waits for something the service must do on its own.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dialect } from '../../src/db/connect.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { type Child, exited, freePort, killAll, ROOT, type RunResult, show, start } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { chatBody, EVENTS_URL, eventsFixture, PASSWORD, UUID_V4, UUID_V7 } from '../helpers/events.js';
import { leadBody } from '../helpers/fixtures.js';
import { basic } from '../helpers/suite.js';

const HOST = '127.0.0.1';
/** The events fixture plus a lead writer for d-1 (c-1/v-1 of leadBody() exist there). */
const FIXTURE = {
  ...eventsFixture,
  subscribers: [
    ...eventsFixture.subscribers,
    { username: 'writer', password: PASSWORD, grants: [{ scope: 'lead.write', dealers: ['d-1'] }] },
  ],
};
const EVENT_AUTH = basic('multi-partner', PASSWORD);
const LEAD_AUTH = basic('writer', PASSWORD);
const EVENT_BODY = JSON.stringify(chatBody());
const LEAD_URL = '/leads/v2/dealer/d-1';

// ---------------------------------------------------------------------------------------------
// Processes and databases: everything started here is killed, and every database dropped, when
// the file ends, whatever happened. (helpers/cli.ts kills the `start` children on its own too.)

const databases: TestDatabase[] = [];
/** Process groups of `npm start` runs (npm, its shell and the service). */
const groups = new Set<number>();

after(async () => {
  killAll();
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await sleep(100); // Let SIGKILLed services release their database connections.
  for (const tdb of databases) await tdb.destroy().catch(() => {});
});

async function provisionedDatabase(dialect: Dialect): Promise<TestDatabase> {
  const tdb = await createTestDatabase(dialect);
  databases.push(tdb);
  await applyProvisioning(tdb.db.kysely, FIXTURE);
  return tdb;
}

/** WORKER_ENABLED is left at its default (true): the in-process worker runs and must stop cleanly. */
function serviceEnv(tdb: TestDatabase, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: tdb.url, PORT: String(port), HOST, LOG_LEVEL: 'info', ...extra };
}

interface Service {
  readonly child: Child;
  readonly port: number;
  readonly tdb: TestDatabase;
  /** Settles when the process exits (rejects, having killed it, if that takes over 60 s). */
  readonly exit: Promise<RunResult>;
}

async function startService(dialect: Dialect, env: Record<string, string> = {}): Promise<Service> {
  const tdb = await provisionedDatabase(dialect);
  const port = await freePort();
  const child = start(['serve'], serviceEnv(tdb, port, env));
  const exit = exited(child);
  exit.catch(() => {}); // Awaited by the tests that stop the service; `after` kills the others.
  await waitHealthy(port, child, () => `stdout: ${child.output.stdout}\nstderr: ${child.output.stderr}`);
  return { child, port, tdb, exit };
}

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Polls GET /healthz until it answers 200 (start-up runs tsx and the migrations first). */
async function waitHealthy(port: number, child: ChildProcess, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(child)) throw new Error(`the service exited (${child.exitCode ?? child.signalCode}) before answering /healthz\n${output()}`);
    try {
      if ((await request(port, { path: '/healthz' })).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`GET /healthz did not answer 200 within ${timeoutMs} ms\n${output()}`);
}

/** Resolves with `promise`, or with `fallback` once `ms` have passed. */
function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** The JSON log lines of the service's stdout (other lines are skipped). */
function logLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').flatMap((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return value !== null && typeof value === 'object' ? [value as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP through node:http.

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

interface RequestOptions {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** A keep-alive agent; by default a fresh connection per request. */
  readonly agent?: http.Agent;
}

/** Thrown when the status line arrived but the body did not finish (the connection dropped). */
class TruncatedResponse extends Error {
  constructor(readonly status: number) {
    super(`response ${status} truncated`);
  }
}

function request(port: number, options: RequestOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = http.request(
      { host: HOST, port, method: options.method ?? 'GET', path: options.path, headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => reject(new TruncatedResponse(res.statusCode ?? 0)));
        res.on('close', () => {
          if (!res.complete) reject(new TruncatedResponse(res.statusCode ?? 0));
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const postEvent = (port: number, agent?: http.Agent) =>
  request(port, {
    method: 'POST',
    path: EVENTS_URL,
    headers: { authorization: EVENT_AUTH, 'content-type': 'application/json' },
    body: EVENT_BODY,
    ...(agent ? { agent } : {}),
  });

const errorCode = (err: unknown) => (err instanceof TruncatedResponse ? 'TRUNCATED' : ((err as NodeJS.ErrnoException).code ?? String(err)));

/** A 503 of the event gate: the events envelope, Retry-After and X-Request-Id. */
function assertGate503(answer: Answer): void {
  const context = `${answer.status} ${JSON.stringify(answer.headers)} ${answer.body}`;
  assert.equal(answer.status, 503, context);
  const body = JSON.parse(answer.body) as { errors: { errorCode: string; errorMessage: string }[] };
  assert.deepEqual(
    body,
    { errors: [{ errorCode: 'SERVICE_UNAVAILABLE', errorMessage: body.errors?.[0]?.errorMessage }], warnings: [], requestId: null },
    context,
  );
  assert.equal(typeof body.errors[0]?.errorMessage, 'string', context);
  assert.match(String(answer.headers['retry-after']), /^\d+$/, context);
  assert.match(String(answer.headers['x-request-id']), UUID_V4, context);
}

/** A 200 of the event gate; returns its requestId. */
function gate200RequestId(answer: Answer): string {
  const context = `${answer.status} ${answer.body}`;
  assert.equal(answer.status, 200, context);
  const body = JSON.parse(answer.body) as { errors: unknown[]; warnings: unknown[]; requestId: string };
  assert.deepEqual(body.errors, [], context);
  assert.match(body.requestId, UUID_V7, context);
  return body.requestId;
}

async function storedRequestIds(tdb: TestDatabase): Promise<Set<string>> {
  const rows = await tdb.db.kysely.selectFrom('events').select('request_id').execute();
  return new Set(rows.map((r) => r.request_id));
}

// ---------------------------------------------------------------------------------------------
// Raw sockets through node:net, for clients node:http would not be (slow, idle, half-finished).

interface RawConnection {
  readonly socket: net.Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves when the socket is fully closed (by either side). */
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

async function connectRaw(port: number): Promise<RawConnection> {
  const socket = net.connect({ host: HOST, port });
  const chunks: Buffer[] = [];
  let isClosed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {}); // A reset counts as closed; 'close' follows.
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => Buffer.concat(chunks), closed, isClosed: () => isClosed };
}

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Bytes after the response (its Content-Length) — a second answer on the same socket. */
  readonly trailing: number;
}

/** Parses the first HTTP response in `bytes`; undefined when its head is not complete. */
function parseResponse(bytes: Buffer): RawResponse | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1] ?? Number.NaN);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = bytes.subarray(end + 4, end + 4 + length);
  return { status, headers, body: body.toString('utf8'), trailing: Math.max(0, bytes.length - (end + 4 + length)) };
}

/** Waits for `conn` to close; returns false if it is still open after `ms`. */
const closesWithin = (conn: RawConnection, ms: number) =>
  within(
    conn.closed.then(() => true),
    ms,
    false,
  );

const describeReceived = (conn: RawConnection) => JSON.stringify(conn.received().toString('latin1'));

// =============================================================================================
// Lifecycle-only tests (start-up and signals) run on SQLite only: nothing in them depends on the
// dialect, and the dialect-specific shutdown (worker claims, pool close) is covered below.

describe('lifecycle: start-up and signals [sqlite]', () => {
  test('serve on a port already in use exits 1 on its own, and its fatal JSON line says what to do', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve, reject) => {
      blocker.once('error', reject);
      blocker.listen(0, HOST, resolve);
    });
    try {
      const address = blocker.address();
      assert.ok(address !== null && typeof address === 'object');
      const tdb = await provisionedDatabase('sqlite');
      const child = start(['serve'], serviceEnv(tdb, address.port));
      // Start-up (tsx, migrations) then the failed listen: it must not linger. 20 s only bounds
      // the wait; a process that stays up is killed and fails the test.
      const result = await exited(child, 20_000);
      assert.equal(result.signal, null, show(result));
      assert.equal(result.code, 1, show(result));
      const fatal = logLines(result.stdout).find(
        (line) =>
          typeof line.level === 'number' &&
          line.level >= 50 &&
          (JSON.stringify(line).includes('EADDRINUSE') || JSON.stringify(line).includes(String(address.port))),
      );
      assert.ok(fatal, `no JSON log line of level >= 50 naming EADDRINUSE or port ${address.port}\n${show(result)}`);
      assert.equal(fatal.msg, `port ${address.port} is in use: set PORT to another port or stop the process listening on it`);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`npm start: ${signal} to the npm process stops the service too (npm exits 0, the port closes)`, async () => {
      const tdb = await provisionedDatabase('sqlite');
      const port = await freePort();
      const { NODE_TEST_CONTEXT: _ignored, ...rest } = process.env;
      // detached: npm leads its own process group, so `after` can kill npm, its shell and the
      // service at once; the test itself signals the npm process only, as a supervisor would.
      const npm = spawn('npm', ['start'], {
        cwd: ROOT,
        env: { ...rest, ...serviceEnv(tdb, port) },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      assert.ok(npm.pid !== undefined, 'npm did not start');
      groups.add(npm.pid);
      const output = { stdout: '', stderr: '' };
      npm.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output.stdout += chunk;
      });
      npm.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        output.stderr += chunk;
      });
      const describeOutput = () => `stdout: ${output.stdout}\nstderr: ${output.stderr}`;
      // 'exit', not 'close': a service that survived npm would hold the pipes open forever.
      const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        npm.once('exit', (code, sig) => resolve({ code, signal: sig })),
      );
      await waitHealthy(port, npm, describeOutput);

      process.kill(npm.pid, signal);
      const result = await within(exit, 15_000, 'still running' as const);

      // Whether npm is gone or not, the service must stop answering: poll until refused.
      let refused = false;
      const deadline = Date.now() + 5_000;
      while (!refused && Date.now() < deadline) {
        try {
          await request(port, { path: '/healthz' });
          await sleep(100);
        } catch (err) {
          refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
        }
      }
      const summary = `npm: ${JSON.stringify(result)}\n${describeOutput()}`;
      assert.ok(refused, `the service still answers on port ${port} after ${signal} to npm (it survived, re-parented)\n${summary}`);
      assert.notEqual(result, 'still running', `npm did not exit after ${signal}\n${summary}`);
      assert.deepEqual(result, { code: 0, signal: null }, summary);
      // The service stopped gracefully, not killed: its last log line says so.
      assert.ok(
        logLines(output.stdout).some((line) => line.msg === 'stopped'),
        `no "stopped" log line\n${summary}`,
      );
    });
  }
});

// =============================================================================================

for (const dialect of testDialects()) {
  describe(`lifecycle: graceful shutdown under load [${dialect}]`, () => {
    test('SIGTERM while 50 keep-alive clients post events: exit 0, every answer 200 or an enveloped 503, every 200 stored, no claim left', async (t) => {
      const CLIENTS = 50;
      const svc = await startService(dialect);
      const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
      try {
        // No warm-up: the burst's 50 first requests share one credential check.
        const acked = new Set<string>();

        interface Outcome {
          readonly answer?: Answer;
          readonly error?: string;
          /** The outcome came after the SIGTERM was sent. */
          readonly afterSignal: boolean;
        }
        const outcomes: Outcome[] = [];
        let signalled = false;
        let exitedAlready = false;
        let pending = 0;
        let pendingAtSignal = 0;
        svc.exit.then(
          () => {
            exitedAlready = true;
          },
          () => {
            exitedAlready = true;
          },
        );
        const client = async () => {
          while (!exitedAlready) {
            pending++;
            try {
              const answer = await postEvent(svc.port, agent);
              outcomes.push({ answer, afterSignal: signalled });
            } catch (err) {
              outcomes.push({ error: errorCode(err), afterSignal: signalled });
              // Refused once the service stopped listening: do not spin.
              await sleep(20);
            } finally {
              pending--;
            }
          }
        };
        const clients = Array.from({ length: CLIENTS }, client);

        await sleep(1_000);
        pendingAtSignal = pending;
        signalled = true;
        assert.ok(svc.child.kill('SIGTERM'));
        // SHUTDOWN_TIMEOUT_MS (10 s) bounds the drain inside the service: exit code 0 means it
        // finished in time. The 20 s here only bounds our wait for the process to go.
        const result = await within(svc.exit, 20_000, 'still running' as const);
        if (result === 'still running') svc.child.kill('SIGKILL');
        exitedAlready = true;
        await Promise.all(clients);
        if (result === 'still running') assert.fail(`the service did not exit within 20 s of SIGTERM\n${svc.child.output.stdout}`);
        assert.equal(result.signal, null, show(result));
        assert.equal(result.code, 0, show(result));

        let unavailable = 0;
        const errors = new Map<string, number>();
        for (const outcome of outcomes) {
          if (outcome.answer !== undefined) {
            if (outcome.answer.status === 200) acked.add(gate200RequestId(outcome.answer));
            else {
              assertGate503(outcome.answer);
              unavailable++;
            }
            continue;
          }
          const code = outcome.error ?? 'unknown';
          // A connection error means no answer arrived; only the stop may cause one, and a
          // response must never be cut short.
          assert.ok(outcome.afterSignal, `connection error ${code} before the SIGTERM`);
          assert.ok(['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(code), `unexpected client error ${code}`);
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }

        const stored = await storedRequestIds(svc.tdb);
        const missing = [...acked].filter((id) => !stored.has(id));
        assert.deepEqual(missing, [], 'every requestId answered 200 is stored');
        // Stored but never acknowledged: only requests whose answer was lost in the stop (a reset,
        // not a refusal — a refused request never reached the service), at most those in flight.
        const unacked = stored.size - acked.size;
        const resets = (errors.get('ECONNRESET') ?? 0) + (errors.get('EPIPE') ?? 0);
        assert.ok(
          unacked <= Math.min(resets, pendingAtSignal),
          `${unacked} events stored without a 200 (resets ${resets}, in flight ${pendingAtSignal})`,
        );

        // The worker handed back its claims on stop (claim.ts: locked_by is set while claimed).
        const claimed = await svc.tdb.db.kysely
          .selectFrom('events')
          .select(['request_id', 'status', 'locked_by', 'locked_until'])
          .where('locked_by', 'is not', null)
          .execute();
        assert.deepEqual(claimed, [], 'no event is left claimed after the stop');

        t.diagnostic(
          `[${dialect}] acked ${acked.size}, stored ${stored.size}, 503 ${unavailable}, in flight at SIGTERM ${pendingAtSignal}, ` +
            `connection errors ${JSON.stringify(Object.fromEntries(errors))}`,
        );
        assert.ok(acked.size > 1, 'the load was served before the stop');
      } finally {
        agent.destroy();
      }
    });
  });
}

// =============================================================================================
// Slow and idle clients, and the connection bound: HTTP-layer limits, the same on every dialect,
// so SQLite only.

describe('lifecycle: slow and idle clients [sqlite]', () => {
  const LIMITS = { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000', KEEP_ALIVE_TIMEOUT_MS: '1000' };
  let svc: Service;
  before(async () => {
    svc = await startService('sqlite', LIMITS);
    // Cache both credentials' scrypt checks, so the tests below wait on nothing but their bodies.
    gate200RequestId(await postEvent(svc.port));
    const lead = await request(svc.port, {
      method: 'POST',
      path: LEAD_URL,
      headers: { authorization: LEAD_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(leadBody({ leadId: 'warm-up' })),
    });
    assert.equal(lead.status, 200, lead.body);
  });

  // Independent connections: run side by side (each waits a few seconds for the server).
  describe('timeouts', { concurrency: true }, () => {
    test('slowloris (headers one byte every 300 ms) → 408 in the plain envelope, then the connection closes', async () => {
      const conn = await connectRaw(svc.port);
      conn.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      const trickle = setInterval(() => {
        if (!conn.isClosed()) conn.socket.write('X');
      }, 300);
      try {
        assert.ok(await closesWithin(conn, 5_000), `still open 5 s into a slowloris; received ${describeReceived(conn)}`);
      } finally {
        clearInterval(trickle);
      }
      const res = parseResponse(conn.received());
      assert.ok(res, `no HTTP response before the close; received ${describeReceived(conn)}`);
      assert.equal(res.status, 408, describeReceived(conn));
      assert.match(res.headers['x-request-id'] ?? '', UUID_V4);
      const body = JSON.parse(res.body) as { error: { code: string; message: string; requestId: string } };
      assert.equal(body.error.code, 'REQUEST_TIMEOUT');
      assert.equal(body.error.requestId, res.headers['x-request-id']);
      assert.equal(res.trailing, 0, 'one answer only');
    });

    test('gate POST with Content-Length 1000 and 10 bytes sent → 408 in the events envelope, then the connection closes', async () => {
      const conn = await connectRaw(svc.port);
      conn.socket.write(
        `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\nAuthorization: ${EVENT_AUTH}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"dealer_"`,
      );
      assert.ok(await closesWithin(conn, 6_000), `still open 6 s into a stalled body; received ${describeReceived(conn)}`);
      const res = parseResponse(conn.received());
      assert.ok(res, `no HTTP response before the close; received ${describeReceived(conn)}`);
      assert.equal(res.status, 408, describeReceived(conn));
      assert.match(res.headers['x-request-id'] ?? '', UUID_V4);
      assert.deepEqual(JSON.parse(res.body), {
        errors: [
          {
            errorCode: 'REQUEST_TIMEOUT',
            errorMessage: (JSON.parse(res.body) as { errors: { errorMessage: string }[] }).errors[0]?.errorMessage,
          },
        ],
        warnings: [],
        requestId: null,
      });
      assert.equal(res.trailing, 0, `one answer only; received ${describeReceived(conn)}`);
    });

    test('lead POST whose body trickles one byte every 200 ms → 408, then the connection closes', async () => {
      const body = JSON.stringify(leadBody({ leadId: 'trickle' }));
      const conn = await connectRaw(svc.port);
      conn.socket.write(
        `POST ${LEAD_URL} HTTP/1.1\r\nHost: x\r\nAuthorization: ${LEAD_AUTH}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
      );
      let sent = 0;
      const trickle = setInterval(() => {
        if (!conn.isClosed() && sent < body.length) conn.socket.write(body[sent++] ?? '');
      }, 200);
      try {
        assert.ok(await closesWithin(conn, 6_000), `still open 6 s into a trickled body; received ${describeReceived(conn)}`);
      } finally {
        clearInterval(trickle);
      }
      assert.ok(sent < body.length, 'the body was still incomplete when the connection closed');
      const res = parseResponse(conn.received());
      assert.ok(res, `no HTTP response before the close; received ${describeReceived(conn)}`);
      assert.equal(res.status, 408, describeReceived(conn));
      assert.match(res.headers['x-request-id'] ?? '', UUID_V4);
      assert.equal((JSON.parse(res.body) as { errorCode: string }).errorCode, 'REQUEST_TIMEOUT');
      assert.equal(res.trailing, 0, `one answer only; received ${describeReceived(conn)}`);
    });

    test('an idle keep-alive connection is closed by the server after KEEP_ALIVE_TIMEOUT_MS', async () => {
      const conn = await connectRaw(svc.port);
      conn.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const deadline = Date.now() + 5_000;
      while (parseResponse(conn.received()) === undefined && !conn.isClosed() && Date.now() < deadline) await sleep(20);
      const res = parseResponse(conn.received());
      assert.equal(res?.status, 200, describeReceived(conn));
      assert.notEqual(res?.headers.connection, 'close', 'the answer keeps the connection alive');
      assert.ok(await closesWithin(conn, 4_000), 'the idle connection is still open 4 s after its answer');
      assert.equal(res?.trailing, 0);
    });
  });

  test('MAX_CONNECTIONS=5: a 6th connection is closed at once; once the 5 go, requests are served again', async () => {
    // Its own service: default header timeouts, so the 5 idle connections stay while we look.
    const bounded = await startService('sqlite', { MAX_CONNECTIONS: '5' });
    // Each of the 5 completes a request first, so the server has surely accepted it; then it
    // stays open, idle (KEEP_ALIVE_TIMEOUT_MS is 5 s by default).
    const five: RawConnection[] = [];
    for (let i = 0; i < 5; i++) {
      const conn = await connectRaw(bounded.port);
      five.push(conn);
      conn.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const deadline = Date.now() + 5_000;
      while (parseResponse(conn.received()) === undefined && !conn.isClosed() && Date.now() < deadline) await sleep(20);
      assert.equal(parseResponse(conn.received())?.status, 200, `connection ${i + 1}: ${describeReceived(conn)}`);
    }
    try {
      const sixth = await connectRaw(bounded.port);
      sixth.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.ok(await closesWithin(sixth, 2_000), `the 6th connection is still open; received ${describeReceived(sixth)}`);
      assert.equal(sixth.received().length, 0, `the 6th connection got an answer: ${describeReceived(sixth)}`);
      assert.ok(
        five.every((c) => !c.isClosed()),
        'the 5 first connections are untouched',
      );
    } finally {
      for (const conn of five) conn.socket.destroy();
    }
    // The server notices the 5 closes asynchronously: retry until served (the deadline bounds the wait).
    const deadline = Date.now() + 5_000;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        last = await request(bounded.port, { path: '/healthz' });
        if ((last as Answer).status === 200) break;
      } catch (err) {
        last = err;
      }
      await sleep(50);
    }
    assert.equal((last as Answer).status, 200, `no 200 after the 5 connections closed: ${String(last)}`);
  });
});

// =============================================================================================

describe('lifecycle: overload [sqlite]', () => {
  test('MAX_IN_FLIGHT=2 with 2 requests held open: 40 concurrent gate POSTs get enveloped 503s, /healthz stays up, every 200 is stored', async (t) => {
    const svc = await startService('sqlite', { MAX_IN_FLIGHT: '2', MAX_IN_FLIGHT_PER_CLIENT: '2' });
    // Cache the credential's scrypt check first (see the shutdown test).
    const acked = [gate200RequestId(await postEvent(svc.port))];
    let unavailable = 0;
    const check = (answer: Answer) => {
      if (answer.status === 200) acked.push(gate200RequestId(answer));
      else {
        assertGate503(answer);
        unavailable++;
      }
    };

    // On SQLite the gate's work is synchronous, so a burst alone rarely overlaps: hold two
    // requests in flight instead (headers and a part of the body sent, the rest withheld).
    const held: RawConnection[] = [];
    for (let i = 0; i < 2; i++) {
      const conn = await connectRaw(svc.port);
      held.push(conn);
      conn.socket.write(
        `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\nAuthorization: ${EVENT_AUTH}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(EVENT_BODY)}\r\n\r\n${EVENT_BODY.slice(0, 10)}`,
      );
    }
    // Once the service counts them, a request is shed: probe until one is (the deadline bounds the wait).
    const deadline = Date.now() + 10_000;
    while (unavailable === 0 && Date.now() < deadline) check(await postEvent(svc.port));
    assert.ok(unavailable > 0, 'no request was shed with 503 while two were held in flight');

    const burst = Array.from({ length: 40 }, () =>
      postEvent(svc.port).then(
        (answer) => ({ answer }),
        (err: unknown) => ({ error: errorCode(err) }),
      ),
    );
    const health = request(svc.port, { path: '/healthz' });
    const outcomes = await Promise.all(burst);
    const healthAnswer = await health;
    assert.equal(healthAnswer.status, 200, `/healthz during the burst: ${healthAnswer.status} ${healthAnswer.body}`);
    for (const outcome of outcomes) {
      assert.ok('answer' in outcome, `a connection error instead of an answer: ${'error' in outcome ? outcome.error : ''}`);
      check(outcome.answer);
    }

    // The held requests were never refused: finish their bodies and they are answered 200.
    for (const conn of held) conn.socket.write(EVENT_BODY.slice(10));
    for (const conn of held) {
      const end = Date.now() + 10_000;
      while (parseResponse(conn.received())?.body.endsWith('}') !== true && !conn.isClosed() && Date.now() < end) await sleep(20);
      const res = parseResponse(conn.received());
      assert.ok(res, `no answer to a held request: ${describeReceived(conn)}`);
      check({ status: res.status, headers: res.headers, body: res.body });
      assert.equal(res.status, 200, describeReceived(conn));
      conn.socket.destroy();
    }

    t.diagnostic(`acked ${acked.length}, 503 ${unavailable}`);
    const stored = await storedRequestIds(svc.tdb);
    assert.deepEqual(
      acked.filter((id) => !stored.has(id)),
      [],
      'every requestId answered 200 is stored',
    );
    // Shed requests were not stored either (nothing else writes events here).
    assert.equal(stored.size, acked.length, 'only acknowledged events are stored');

    assert.ok(svc.child.kill('SIGTERM'));
    const result = await svc.exit;
    assert.equal(result.code, 0, show(result));
  });
});
