// Starts one of our worker threads from its module URL, and carries errors across threads. Under tsx (development and tests) the
// module is TypeScript and the thread must register tsx itself: a worker thread does not
// inherit its parent's --import hooks.
import { Worker as Thread } from 'node:worker_threads';
import { AppError, type ErrorCode, isAppError } from '../core/errors.js';
import { isTransientDbError } from './dialect.js';

/**
 * Our threads allocate short-lived objects fast (batches, rows, JSONata's garbage); V8's default
 * young generation lets each grow by tens of MB before it collects. Capped at 8 MB, the service's
 * peak RSS under the gate's load fell from 313–331 MB to 272–282 MB at the same throughput
 * (7 100–8 100 vs 7 100–7 600 req/s, within run-to-run noise).
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 8 };

/** `name` is the module's path next to `base` without extension, e.g. './storage.thread'. */
export function startThread(name: string, base: string, workerData: unknown): Thread {
  const typescript = base.endsWith('.ts');
  const url = new URL(`${name}${typescript ? '.ts' : '.js'}`, base);
  if (!typescript) return new Thread(url, { workerData, resourceLimits: THREAD_LIMITS });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Thread(boot, { eval: true, workerData, resourceLimits: THREAD_LIMITS });
}

// An error crosses a thread as plain data: an AppError keeps its code (and so its status and
// envelope); anything else keeps its message, driver code and whether it was transient.
export interface WireError {
  readonly message: string;
  readonly name: string;
  readonly code: string | undefined;
  readonly appCode: ErrorCode | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly transient: boolean;
}

export function toWire(error: unknown): WireError {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  return {
    message: e.message,
    name: e.name,
    code: typeof code === 'string' ? code : undefined,
    appCode: isAppError(e) ? e.code : undefined,
    retryAfterSeconds: isAppError(e) ? e.retryAfterSeconds : undefined,
    transient: isTransientDbError(e),
  };
}

/** An error from another thread, as it would have been thrown on this one. */
export class ThreadError extends Error {
  override name = 'ThreadError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export function fromWire(wire: WireError): Error {
  if (wire.appCode !== undefined) return new AppError(wire.appCode, wire.message, wire.retryAfterSeconds);
  return new ThreadError(`${wire.name}: ${wire.message}`, wire.code, wire.transient);
}
