// Where writes and the in-process worker run. The service hands them to the storage thread;
// tests that pass their own connection run them inline on it (the app then uses only that one).
import type { FastifyBaseLogger } from 'fastify';
import type { SubscriberDirectory } from '../auth/directory.js';
import type { Config, LogLevel } from '../core/config.js';
import { VERSION } from '../core/version.js';
import type { Db } from '../db/connect.js';
import type { Deliverer } from '../delivery/deliverer.js';
import type { HealthChange, RecordedAttempt } from '../delivery/delivery.repository.js';
import type { BatchReport, EventTally, Worker } from '../pipeline/worker.js';
import type { BatchStats } from './group-commit.js';
import type { PipelineStats } from './pipeline-stats.js';
import { inlineStorage, type Storage, StorageThread } from './storage.js';

/** What the metrics layer learns from the write path, wherever it runs. */
interface StorageObserver {
  /** Inline: after each pipeline batch. */
  readonly countBatch: (report: BatchReport, events: readonly EventTally[]) => void;
  /** Inline: after each group commit. */
  readonly countCommit: (stats: BatchStats) => void;
  /** Thread: the thread's pipeline and group-commit counts, shipped every second. */
  readonly applyStats: (stats: PipelineStats) => void;
  /** Inline: the sender's recorded attempts and health changes. */
  readonly countDelivery: (recorded: readonly RecordedAttempt[]) => void;
  readonly countHealth: (change: HealthChange) => void;
  /** Inline: the worker whose heartbeat /readyz follows. */
  readonly followWorker: (worker: Worker) => void;
}

export interface OpenStorageOptions {
  readonly mode: 'thread' | 'inline';
  readonly config: Config;
  readonly db: Db;
  readonly directory: SubscriberDirectory;
  /** The storage thread's log level (its logger is its own). */
  readonly threadLogLevel: LogLevel;
  readonly log: FastifyBaseLogger;
  readonly observer: StorageObserver;
}

/** The storage, and the inline worker and sender to start and stop with the app (none in thread mode). */
export async function openStorage(
  options: OpenStorageOptions,
): Promise<{ storage: Storage; worker: Worker | undefined; deliverer: Deliverer | undefined }> {
  const { config, db, directory, log, observer } = options;
  if (options.mode === 'inline') {
    // Loaded only here: the service's request thread never runs the pipeline (nor holds JSONata)
    // and never sends (nor holds undici).
    const { Worker } = await import('../pipeline/worker.js');
    const { Deliverer } = await import('../delivery/deliverer.js');
    const deliverer = config.delivery.enabled
      ? new Deliverer({
          db,
          config: config.delivery,
          log,
          userAgent: `dealer-gateway/${VERSION}`,
          onRecorded: observer.countDelivery,
          onHealthChange: observer.countHealth,
        })
      : undefined;
    const worker = config.workerEnabled
      ? new Worker({
          db,
          directory,
          log,
          config: config.worker,
          onBatch: (report, events) => {
            observer.countBatch(report, events);
            deliverer?.wakeIfEnqueued();
          },
        })
      : undefined;
    if (worker) observer.followWorker(worker);
    const onCommit = (stats: BatchStats) => {
      observer.countCommit(stats);
      deliverer?.wakeIfEnqueued();
    };
    return { storage: inlineStorage(db, () => worker?.wake(), onCommit, log), worker, deliverer };
  }
  const storage = await StorageThread.start(
    {
      database: db.config,
      logLevel: options.threadLogLevel,
      worker: config.workerEnabled ? config.worker : null,
      delivery: config.delivery.enabled ? config.delivery : null,
    },
    log,
    observer.applyStats,
  );
  return { storage, worker: undefined, deliverer: undefined };
}
