// The messages between the request thread and the storage thread.
import type { DatabaseConfig, DeliveryConfig, LogLevel, WorkerConfig } from '../core/config.js';
import type { WireError } from '../db/threads.js';
import type { EventFilter } from '../eventlog/event.filter.js';
import type { LeadSavePlan } from '../leads/lead.model.js';
import type { NewEventRow } from './group-commit.js';
import type { PipelineStats } from './pipeline-stats.js';

export interface StorageThreadData {
  readonly database: DatabaseConfig;
  readonly logLevel: LogLevel;
  /** The in-process pipeline worker's settings, or null when WORKER_ENABLED=false. */
  readonly worker: WorkerConfig | null;
  /** The sender's settings, or null when DELIVERY_ENABLED=false. */
  readonly delivery: DeliveryConfig | null;
}

export type Request =
  | { readonly t: 'event'; readonly id: number; readonly row: NewEventRow }
  | { readonly t: 'lead'; readonly id: number; readonly plan: LeadSavePlan }
  | { readonly t: 'replay'; readonly id: number; readonly filter: EventFilter; readonly now: number; readonly actor: string }
  | { readonly t: 'stop' };

export type Reply =
  | { readonly t: 'ready' }
  | { readonly t: 'done'; readonly id: number; readonly value: unknown }
  | { readonly t: 'fail'; readonly id: number; readonly error: WireError }
  /** Counts since the last stats message and the worker's heartbeat, at most once a second. */
  | { readonly t: 'stats'; readonly stats: PipelineStats }
  | { readonly t: 'stopped' };
