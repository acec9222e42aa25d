// Child processes of the benchmark: every one started here is tracked and killed when the
// benchmark ends, however it ends (normal exit, error, Ctrl-C). Each server process gets an RSS
// sampler reading /proc/<pid>/status every 100 ms.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

const children = new Set<ChildProcess>();
let aborted = false;

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

function killAll(): void {
  for (const child of children) if (running(child)) child.kill('SIGKILL');
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // First signal: kill the children so every await fails and the finally blocks clean up
    // (scratch databases included); a second one exits at once.
    if (aborted) process.exit(130);
    aborted = true;
    process.stderr.write(`\n${signal}: stopping the benchmark\n`);
    killAll();
  });
}

/** True once Ctrl-C (or SIGTERM) asked the benchmark to stop. */
export const isAborted = () => aborted;

export interface Tracked {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last 16 KB of stderr, for error messages. */
  stderrTail(): string;
  /** Resolves with the exit code once the process has exited (at once if it has). */
  exited(): Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** 'pipe' to read stdout; otherwise it goes to /dev/null (or a file in BENCH_LOG_DIR). */
  readonly stdout?: 'pipe' | 'discard';
  /** Names the log file when BENCH_LOG_DIR is set. */
  readonly name?: string;
}

/**
 * Starts a tracked process. Discarded stdout goes to /dev/null, not to a pipe we would have to
 * read: a pino logger writes synchronously, so a full pipe would stall the service, and a log
 * file on the database's disk would compete with its fsyncs. BENCH_LOG_DIR keeps the logs.
 */
export function startProcess(command: string, args: readonly string[], options: SpawnOptions = {}): Tracked {
  if (aborted) throw new Error('benchmark aborted');
  const logDir = process.env.BENCH_LOG_DIR;
  const logName = `${(options.name ?? 'process').replace(/\W+/g, '-')}-${Date.now()}.log`;
  const stdout = options.stdout === 'pipe' ? 'pipe' : logDir ? openSync(join(logDir, logName), 'a') : 'ignore';
  const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', stdout, 'pipe'] });
  if (typeof stdout === 'number') closeSync(stdout); // the child has its own copy
  children.add(child);
  let tail = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-16_384);
  });
  const exit = new Promise<number | null>((resolve) => {
    child.once('close', (code) => resolve(code));
    child.once('error', (err) => {
      tail += `\n${err.message}`;
      resolve(null);
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  return {
    child,
    pid,
    stderrTail: () => tail,
    exited: () => exit,
    async stop(graceMs = 15_000) {
      if (!running(child)) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** The first line the process prints on stdout (the baseline prints its port). */
export async function firstLine(tracked: Tracked, timeoutMs = 30_000): Promise<string> {
  const stdout = tracked.child.stdout;
  if (!stdout) throw new Error('stdout is not piped');
  let text = '';
  const line = new Promise<string>((resolve) => {
    stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end >= 0) resolve(text.slice(0, end));
    });
  });
  const failed = tracked.exited().then((code) => {
    throw new Error(`process exited (${code}) before printing anything\n${tracked.stderrTail()}`);
  });
  return within(Promise.race([line, failed]), timeoutMs, 'no output');
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** GET on 127.0.0.1 without keep-alive; the status code, or 0 when nothing answered in time. */
export function httpStatus(port: number, path: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Polls `path` until it answers 200; fails if the process exits first or after `timeoutMs`. */
export async function waitForHttp(tracked: Tracked, port: number, path: string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (!running(tracked.child)) {
      throw new Error(
        `process exited (${tracked.child.exitCode ?? tracked.child.signalCode}) before ${path} answered\n${tracked.stderrTail()}`,
      );
    }
    if ((await httpStatus(port, path, 1000)) === 200) return;
    await sleep(50);
  }
  throw new Error(`${path} did not answer 200 within ${timeoutMs} ms\n${tracked.stderrTail()}`);
}

export { freePort } from '../test/helpers/ports.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb);
  } catch {
    return undefined; // the process is gone
  }
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

/** Samples a process's resident memory every 100 ms, overall and per measurement window. */
export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  private peakKb = 0;
  private windowPeakKb = 0;
  private lastKb = 0;

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }

  private sample(): void {
    const kb = statusKb(this.pid, 'VmRSS');
    if (kb === undefined) return;
    this.lastKb = kb;
    this.peakKb = Math.max(this.peakKb, kb);
    this.windowPeakKb = Math.max(this.windowPeakKb, kb);
  }

  /** Current RSS in MB (sampled now). */
  nowMb(): number {
    this.sample();
    return mb(this.lastKb);
  }

  /** Starts a window: windowPeakMb() reports the peak from here on. */
  startWindow(): void {
    this.sample();
    this.windowPeakKb = this.lastKb;
  }

  windowPeakMb(): number {
    this.sample();
    return mb(this.windowPeakKb);
  }

  peakMb(): number {
    return mb(this.peakKb);
  }

  /** The kernel's own high-water mark (VmHWM); read it before the process exits. */
  hwmMb(): number | null {
    const kb = statusKb(this.pid, 'VmHWM');
    return kb === undefined ? null : mb(kb);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
