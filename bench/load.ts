// The load generator, always a separate process so it never shares an event loop with the server
// it measures: wrk (one thread, bench/wrk.lua) when installed, else autocannon. Keep-alive
// connections, one request in flight on each, for a fixed time.
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess } from './processes.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface LoadOptions {
  readonly port: number;
  readonly path: string;
  /** A file of request bodies, one JSON document per line, sent in turn (autocannon: the first only). */
  readonly bodiesFile: string;
  readonly authorization: string;
  readonly connections: number;
  readonly seconds: number;
  /** Count answers per status code (wrk: costs the client throughput, see bench/wrk.lua). */
  readonly countStatuses?: boolean;
  /** Requests per second across all connections, evenly spaced (bench/paced.ts; neither wrk nor autocannon can). */
  readonly rate?: number | undefined;
}

export interface LoadResult {
  readonly tool: 'wrk' | 'autocannon' | 'paced';
  readonly connections: number;
  readonly seconds: number;
  readonly requests: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** Answers with a status outside 2xx (wrk: outside 2xx/3xx; no 3xx is expected here). */
  readonly non2xx: number;
  /** Connect, read and write errors and timeouts: requests that got no answer at all. */
  readonly socketErrors: number;
  /** Per status code, when countStatuses was set. */
  readonly statuses: Record<string, number> | null;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** BENCH_LOADGEN=wrk|autocannon forces one; otherwise wrk when it is installed. */
export function loadTool(): 'wrk' | 'autocannon' {
  const wanted = process.env.BENCH_LOADGEN;
  if (wanted === 'wrk' || wanted === 'autocannon') return wanted;
  if (wanted) throw new Error(`BENCH_LOADGEN: expected wrk or autocannon, got ${wanted}`);
  return onPath('wrk') ? 'wrk' : 'autocannon';
}

async function output(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const tracked = startProcess(command, args, { stdout: 'pipe', env });
  let stdout = '';
  tracked.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const code = await tracked.exited();
  if (code !== 0) throw new Error(`${command} exited ${code}\n${stdout}\n${tracked.stderrTail()}`);
  return stdout;
}

interface WrkFigures {
  requests: number;
  durationUs: number;
  non2xx3xx: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  timeouts: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
  statuses: Record<string, number>;
}

async function wrk(o: LoadOptions): Promise<LoadResult> {
  const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '60s', '-s', join(ROOT, 'bench/wrk.lua')];
  args.push(`http://127.0.0.1:${o.port}${o.path}`, '--', o.bodiesFile, o.authorization);
  const env = { ...process.env, WRK_COUNT_STATUSES: o.countStatuses ? '1' : '0' };
  const text = await output('wrk', args, env);
  const line = text.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no figures:\n${text}`);
  const f = JSON.parse(line.slice('WRK_JSON '.length)) as WrkFigures;
  const ms = (us: number) => us / 1000;
  return {
    tool: 'wrk',
    connections: o.connections,
    seconds: o.seconds,
    requests: f.requests,
    perSecond: round1(f.requests / (f.durationUs / 1e6)),
    p50Ms: ms(f.p50Us),
    p99Ms: ms(f.p99Us),
    maxMs: ms(f.maxUs),
    meanMs: ms(f.meanUs),
    non2xx: f.non2xx3xx,
    socketErrors: f.connectErrors + f.readErrors + f.writeErrors + f.timeouts,
    statuses: o.countStatuses ? f.statuses : null,
  };
}

interface AutocannonFigures {
  requests: { total: number };
  duration: number;
  latency: { p50: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
}

async function autocannon(o: LoadOptions): Promise<LoadResult> {
  const body = readFileSync(o.bodiesFile, 'utf8').split('\n')[0] ?? '';
  const args = [join(ROOT, 'node_modules/autocannon/autocannon.js'), '--json', '-c', String(o.connections), '-d', String(o.seconds)];
  args.push('-t', '60', '-m', 'POST', '-H', 'Content-Type:application/json', '-H', `Authorization:${o.authorization}`, '-b', body);
  args.push(`http://127.0.0.1:${o.port}${o.path}`);
  const text = await output(process.execPath, args, process.env);
  const f = JSON.parse(text.trim().split('\n').pop() ?? '{}') as AutocannonFigures;
  const statuses: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(f.statusCodeStats ?? {})) statuses[status] = count;
  return {
    tool: 'autocannon',
    connections: o.connections,
    seconds: o.seconds,
    requests: f.requests.total,
    perSecond: round1(f.requests.total / f.duration),
    p50Ms: f.latency.p50,
    p99Ms: f.latency.p99,
    maxMs: f.latency.max,
    meanMs: f.latency.mean,
    non2xx: f.non2xx,
    socketErrors: f.errors + f.timeouts,
    statuses: o.countStatuses ? statuses : null,
  };
}

interface PacedFigures {
  requests: number;
  seconds: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
  non2xx: number;
  errors: number;
  late: number;
}

/** A fixed rate, evenly spaced (bench/paced.ts); starts that found every connection busy count as socket errors. */
async function paced(o: LoadOptions & { rate: number }): Promise<LoadResult> {
  const env = {
    ...process.env,
    PACED_URL: `http://127.0.0.1:${o.port}${o.path}`,
    PACED_RATE: String(o.rate),
    PACED_SECONDS: String(o.seconds),
    PACED_CONNECTIONS: String(o.connections),
    PACED_BODIES: o.bodiesFile,
    PACED_AUTHORIZATION: o.authorization,
  };
  const text = await output(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/paced.ts')], env);
  const line = text.split('\n').find((l) => l.startsWith('PACED_JSON '));
  if (!line) throw new Error(`the paced load printed no figures:\n${text}`);
  const f = JSON.parse(line.slice('PACED_JSON '.length)) as PacedFigures;
  return {
    tool: 'paced',
    connections: o.connections,
    seconds: o.seconds,
    requests: f.requests,
    perSecond: round1(f.requests / f.seconds),
    p50Ms: f.p50Us / 1000,
    p99Ms: f.p99Us / 1000,
    maxMs: f.maxUs / 1000,
    meanMs: f.meanUs / 1000,
    non2xx: f.non2xx,
    socketErrors: f.errors + f.late,
    statuses: null,
  };
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.rate !== undefined) return paced({ ...options, rate: options.rate });
  return loadTool() === 'wrk' ? wrk(options) : autocannon(options);
}
