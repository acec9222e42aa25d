// Runs `bin/dealer-gateway.js` as a real child process and collects its output. Every child
// started here is killed when the test file ends, whatever happened.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'dealer-gateway.js');
const RUN_TIMEOUT_MS = 60_000;

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export type Child = ChildProcess & { output: { stdout: string; stderr: string } };

const children = new Set<ChildProcess>();
export const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Kills every child still running (also done automatically when the test file ends). */
export function killAll(): void {
  for (const child of children) if (isRunning(child)) child.kill('SIGKILL');
}

after(killAll);

/** Starts `dealer-gateway ...args` with our environment (minus the test runner's) plus `env`. */
export function start(args: readonly string[], env: Record<string, string>): Child {
  const { NODE_TEST_CONTEXT: _ignored, ...rest } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...rest, LOG_LEVEL: 'info', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
  });
  return Object.assign(child, { output });
}

/** Resolves when the child exits (at once if it already has); kills it after `timeoutMs`. */
export function exited(child: Child, timeoutMs = RUN_TIMEOUT_MS): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const result = (code: number | null, signal: NodeJS.Signals | null): RunResult => ({
      code,
      signal,
      stdout: child.output.stdout,
      stderr: child.output.stderr,
    });
    if (!isRunning(child)) {
      resolve(result(child.exitCode, child.signalCode));
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`dealer-gateway did not exit within ${timeoutMs} ms\nstdout: ${child.output.stdout}\nstderr: ${child.output.stderr}`),
      );
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(result(code, signal));
    });
  });
}

export { freePort } from './ports.js';

/** Runs `dealer-gateway ...args` to completion, with `input` on stdin. */
export async function run(args: readonly string[], env: Record<string, string>, input = ''): Promise<RunResult> {
  const child = start(args, env);
  child.stdin?.end(input);
  return exited(child);
}

export const show = (r: RunResult) => `exit ${r.code} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
