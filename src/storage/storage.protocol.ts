// The messages between the request thread and the storage thread, and how an error crosses it.
import type { DatabaseConfig, LogLevel, WorkerConfig } from '../config.js';
import { isTransientDbError } from '../db/dialect.js';
import { AppError, type ErrorCode, isAppError } from '../errors.js';
import type { LeadSavePlan } from '../leads/lead.service.js';
import type { NewEventRow } from './group-commit.js';

export interface StorageThreadData {
  readonly database: DatabaseConfig;
  readonly poolSize: number | undefined;
  readonly logLevel: LogLevel;
  /** The in-process pipeline worker's settings, or null when WORKER_ENABLED=false. */
  readonly worker: WorkerConfig | null;
}

export type Request =
  | { readonly t: 'event'; readonly id: number; readonly row: NewEventRow }
  | { readonly t: 'lead'; readonly id: number; readonly plan: LeadSavePlan }
  | { readonly t: 'stop' };

export type Reply =
  | { readonly t: 'ready' }
  | { readonly t: 'done'; readonly id: number; readonly value: unknown }
  | { readonly t: 'fail'; readonly id: number; readonly error: WireError }
  | { readonly t: 'stopped' };

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

/** An error from the storage thread, as it would have been thrown on this thread. */
export class StorageError extends Error {
  override name = 'StorageError';
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
  return new StorageError(`${wire.name}: ${wire.message}`, wire.code, wire.transient);
}
