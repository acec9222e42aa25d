// The processes under test: the bare Fastify baseline, the service as a user starts it
// (`bin/dealer-gateway.js serve`, with the node options of its #! line) and the stand-alone worker (`… worker`). Each gets an RSS
// sampler; servers are measured idle 2 s after they answer, before any load.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstLine, freePort, RssSampler, sleep, startProcess, type Tracked, waitForHttp } from './processes.js';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = `${ROOT}bin/dealer-gateway.js`;
/** The node options the CLI's #! line runs with (`#!/usr/bin/env -S node --…`), as an operator gets them. */
const BIN_NODE_ARGS = (readFileSync(BIN, 'utf8').split('\n', 1)[0] ?? '').split(' ').filter((word) => word.startsWith('--'));

/** Every variable the service reads (README "Configuration") or the test helpers read. */
const CONFIG_VARIABLES =
  /^(PORT|HOST|DATABASE_URL|LOG_LEVEL|MAX_BODY_BYTES|PROVISIONING_POLL_MS|WORKER_.*|HEADERS_TIMEOUT_MS|REQUEST_TIMEOUT_MS|KEEP_ALIVE_TIMEOUT_MS|MAX_CONNECTIONS|MAX_IN_FLIGHT|LISTEN_BACKLOG|SHUTDOWN_TIMEOUT_MS|AUTH_.*|DELIVERY_.*|TEST_.*|NODE_TEST_CONTEXT)$/;

/** Our environment without any service setting, so "default configuration" means the defaults. */
function defaultsEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!CONFIG_VARIABLES.test(key)) env[key] = value;
  return { ...env, ...extra };
}

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestSourceMs(path) : entry.name.endsWith('.ts') ? statSync(path).mtimeMs : 0;
    newest = Math.max(newest, mtime);
  }
  return newest;
}

/**
 * bin/dealer-gateway.js rebuilds dist/ when a source is newer, and runs the sources through tsx
 * when it cannot. Run it once before measuring, so no measured process pays for a build, and say
 * which runtime the processes will use (their memory differs by tens of MB).
 */
export async function prepareRuntime(): Promise<'compiled dist/' | 'sources through tsx'> {
  const tracked = startProcess(process.execPath, [BIN, '--help'], { env: defaultsEnv({}) });
  const code = await tracked.exited();
  if (code !== 0) throw new Error(`dealer-gateway --help exited ${code}\n${tracked.stderrTail()}`);
  const compiled = `${ROOT}dist/cli/main.js`;
  return existsSync(compiled) && newestSourceMs(`${ROOT}src`) <= statSync(compiled).mtimeMs ? 'compiled dist/' : 'sources through tsx';
}

export interface Target {
  readonly name: string;
  readonly port: number;
  readonly process: Tracked;
  readonly rss: RssSampler;
  /** RSS 2 s after the process answered, before any load. */
  readonly idleMb: number;
  /** Stops the process; returns its peak RSS (sampled) and VmHWM (kernel), in MB. */
  stop(): Promise<{ peakMb: number; hwmMb: number | null }>;
}

async function settle(name: string, port: number, tracked: Tracked): Promise<Target> {
  const rss = new RssSampler(tracked.pid);
  await sleep(2000); // the idle figure: start-up garbage collected, nothing asked of it yet
  const idleMb = rss.nowMb();
  return {
    name,
    port,
    process: tracked,
    rss,
    idleMb,
    async stop() {
      const hwmMb = rss.hwmMb();
      await tracked.stop();
      rss.stop();
      return { peakMb: rss.peakMb(), hwmMb };
    },
  };
}

async function guarded(tracked: Tracked, start: () => Promise<Target>): Promise<Target> {
  try {
    return await start();
  } catch (err) {
    await tracked.stop(2000);
    throw err;
  }
}

export async function startBaseline(): Promise<Target> {
  const tracked = startProcess(process.execPath, ['--import', 'tsx', `${ROOT}bench/baseline.ts`], {
    stdout: 'pipe',
    env: defaultsEnv({}),
  });
  return guarded(tracked, async () => {
    const port = Number(await firstLine(tracked));
    if (!port) throw new Error('the baseline did not print its port');
    return settle('baseline', port, tracked);
  });
}

/** The near-limit durable reference (bench/reference.ts) on `databaseUrl`: a SQLite file path or postgres://… */
export async function startReference(databaseUrl: string, authorization: string): Promise<Target> {
  const tracked = startProcess(process.execPath, ['--import', 'tsx', `${ROOT}bench/reference.ts`], {
    stdout: 'pipe',
    env: defaultsEnv({ REFERENCE_DATABASE_URL: databaseUrl, REFERENCE_AUTHORIZATION: authorization }),
  });
  return guarded(tracked, async () => {
    const port = Number(await firstLine(tracked));
    if (!port) throw new Error('the reference did not print its port');
    return settle('reference', port, tracked);
  });
}

/** `dealer-gateway serve` on a port we chose (PORT; the service has no "any port" mode to report). */
export async function startService(name: string, databaseUrl: string, env: Record<string, string> = {}): Promise<Target> {
  const port = await freePort();
  // BENCH_NODE_ARGS: options for node itself, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to
  // profile every thread of the service (NODE_OPTIONS refuses --cpu-prof).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const tracked = startProcess(process.execPath, [...BIN_NODE_ARGS, ...nodeArgs, BIN, 'serve'], {
    name,
    env: defaultsEnv({ DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', ...env }),
  });
  return guarded(tracked, async () => {
    try {
      await waitForHttp(tracked, port, '/readyz', 60_000);
    } catch (err) {
      const hint = process.env.BENCH_LOG_DIR ? `its log is in ${process.env.BENCH_LOG_DIR}` : 'set BENCH_LOG_DIR to keep its log';
      throw new Error(`${name}: ${(err as Error).message.trimEnd()} (${hint})`);
    }
    return settle(name, port, tracked);
  });
}

/** `dealer-gateway worker`: starts working at once, so no idle figure. */
export function startWorker(databaseUrl: string, env: Record<string, string> = {}): { process: Tracked; rss: RssSampler } {
  const tracked = startProcess(process.execPath, [...BIN_NODE_ARGS, BIN, 'worker'], {
    name: 'worker',
    env: defaultsEnv({ DATABASE_URL: databaseUrl, ...env }),
  });
  return { process: tracked, rss: new RssSampler(tracked.pid) };
}
