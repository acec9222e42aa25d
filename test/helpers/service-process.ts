// Long-running `bin/dealer-gateway.js` processes for process-level tests (scale-out, crash,
// database faults): output is always drained line by line (only a bounded tail is kept, for
// failure messages), plus plain node:http requests with a timeout and a /readyz wait.
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, ROOT } from './cli.js';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_TAIL_LINES = 40;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_START_TIMEOUT_MS = 60_000;

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Settles when the process has exited. */
  readonly exited: Promise<void>;
  /** The last lines of stdout and stderr, under a header with the name, pid and exit status. */
  tail(): string;
}

export interface StartOptions {
  /** How many lines `tail()` keeps (default DEFAULT_TAIL_LINES). */
  readonly tailLines?: number;
  /**
   * Sees every complete output line first, with the stream it came on; returning false keeps the
   * line out of the tail (for lines too frequent to be worth keeping).
   */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => boolean | undefined;
}

export const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Starts `dealer-gateway ...args` with our environment (minus the test runner's) plus `env`. */
export function startService(
  name: string,
  args: readonly string[],
  env: Record<string, string>,
  options: StartOptions = {},
): ServiceProcess {
  const tailLines = options.tailLines ?? DEFAULT_TAIL_LINES;
  const { NODE_TEST_CONTEXT: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > tailLines) lines.shift();
  };
  const onLine = (line: string, stream: 'stdout' | 'stderr') => {
    if (options.onLine?.(line, stream) === false) return;
    keep(line);
  };
  for (const [stream, label] of [
    [child.stdout, 'stdout'],
    [child.stderr, 'stderr'],
  ] as const) {
    let partial = '';
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) if (line !== '') onLine(line, label);
    });
    stream?.on('end', () => {
      if (partial !== '') onLine(partial, label);
    });
  }
  child.on('error', (err) => keep(`spawn error: ${err.message}`));
  return {
    name,
    child,
    exited: new Promise<void>((resolve) => child.once('exit', () => resolve())),
    tail: () => `--- ${name} (pid ${child.pid}, exit ${child.exitCode ?? child.signalCode ?? 'running'}) ---\n${lines.join('\n')}`,
  };
}

/** SIGKILLs the process if it still runs; resolves once it has exited. */
export async function killHard(proc: ServiceProcess): Promise<void> {
  if (running(proc.child)) proc.child.kill('SIGKILL');
  await proc.exited;
}

// ---------------------------------------------------------------------------------------------
// HTTP through node:http (pass a keep-alive agent, or false for a fresh connection).

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface RequestOptions {
  /** The authorization header, if any. */
  readonly auth?: string | undefined;
  readonly host?: string;
  /** A request with no answer after this long fails (default DEFAULT_REQUEST_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /** More request headers (e.g. Idempotency-Key). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Rejects when no answer comes (connection error or timeout); any status resolves. */
export function request(
  port: number,
  agent: http.Agent | false,
  method: string,
  path: string,
  body?: string,
  options: RequestOptions = {},
): Promise<Answer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth !== undefined) headers.authorization = options.auth;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req = http.request({ host: options.host ?? DEFAULT_HOST, port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface WaitReadyOptions extends RequestOptions {
  /** How long the process has to answer 200 on /readyz (default DEFAULT_START_TIMEOUT_MS). */
  readonly startTimeoutMs?: number;
}

/** Polls GET /readyz until it answers 200; fails at once if the process exits meanwhile. */
export async function waitReady(proc: ServiceProcess, port: number, options: WaitReadyOptions = {}): Promise<void> {
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (!running(proc.child)) throw new Error(`${proc.name} exited before /readyz answered 200\n${proc.tail()}`);
    try {
      if ((await request(port, false, 'GET', '/readyz', undefined, options)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`${proc.name}: GET /readyz did not answer 200 within ${startTimeoutMs} ms\n${proc.tail()}`);
}

/** `request` and `waitReady` with the options (auth, host, timeouts) of one test file bound. */
export function serviceClient(options: WaitReadyOptions) {
  return {
    request: (
      port: number,
      agent: http.Agent | false,
      method: string,
      path: string,
      body?: string,
      headers?: Record<string, string>,
    ): Promise<Answer> => request(port, agent, method, path, body, { ...options, headers }),
    waitReady: (proc: ServiceProcess, port: number): Promise<void> => waitReady(proc, port, options),
  };
}

export interface KillRoundsOptions {
  readonly rounds: number;
  /** Each round the process runs for a random time in this range before its SIGKILL. */
  readonly killAfterMs: readonly [number, number];
  /** Starts the next process (same environment, same port). */
  readonly start: () => ServiceProcess;
  readonly ready: (proc: ServiceProcess) => Promise<void>;
  /** What every process printed, for the failure message. */
  readonly tails: () => string;
}

/**
 * SIGKILLs `first` after a random while, starts another and waits for it, `rounds` times (the
 * crash tests' loop, while their clients keep sending); returns the process running at the end.
 */
export async function sigkillRounds(first: ServiceProcess, options: KillRoundsOptions): Promise<ServiceProcess> {
  const [lo, hi] = options.killAfterMs;
  let current = first;
  for (let round = 1; round <= options.rounds; round++) {
    await sleep(lo + Math.floor(Math.random() * (hi - lo)));
    if (!running(current.child)) throw new Error(`${current.name} exited by itself in round ${round}\n${options.tails()}`);
    current.child.kill('SIGKILL');
    await current.exited;
    current = options.start();
    await options.ready(current);
  }
  return current;
}

/**
 * Polls `waiting` (what is still to be done, 0 when done) every 250 ms until it is 0; fails if
 * `proc` exits meanwhile or `timeoutMs` passes, with what the processes printed.
 */
export async function waitUntilDone(
  proc: ServiceProcess,
  waiting: () => Promise<{ readonly count: number; readonly what: string }>,
  timeoutMs: number,
  tails: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await waiting();
    if (left.count === 0) return;
    if (!running(proc.child)) throw new Error(`${proc.name} exited while draining (${left.what})\n${tails()}`);
    if (Date.now() > deadline) throw new Error(`${left.what} after ${timeoutMs} ms\n${tails()}`);
    await sleep(250);
  }
}
