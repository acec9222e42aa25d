// Where the request thread hands its writes: to the storage thread (the service) or, inline, to a
// GroupCommitter on the caller's own connection (the CLI and tests that want one process-wide
// connection). Both give the same answers; only where the work runs differs.
import type { Worker as Thread } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/connect.js';
import { fromWire, startThread, ThreadError } from '../db/threads.js';
import type { EventFilter } from '../eventlog/event.filter.js';
import type { LeadSavePlan, SaveLeadResult } from '../leads/lead.model.js';
import type { ReplayReport } from '../pipeline/replay.js';
import { type BatchStats, GroupCommitter, type NewEventRow, queuedEvents, type StoreEventOutcome } from './group-commit.js';
import type { PipelineStats } from './pipeline-stats.js';
import { type IndexerLog, searchIndexerFor } from './search-index.js';
import type { Reply, Request, StorageThreadData } from './storage.protocol.js';

export interface Storage {
  storeEvent(row: NewEventRow): Promise<StoreEventOutcome>;
  saveLead(plan: LeadSavePlan): Promise<SaveLeadResult>;
  /** Puts matching events back in the queue (src/pipeline/replay.ts); the commit wakes the worker. */
  replayEvents(filter: EventFilter, now: number, actor: string): Promise<ReplayReport>;
  /** Finishes what was handed in, stops the thread's worker (claims go back), closes. */
  close(): Promise<void>;
}

/** `onCommitted` is called after a commit that stored or replayed events; `onBatch` after every commit (metrics). */
export function inlineStorage(db: Db, onCommitted?: () => void, onBatch?: (stats: BatchStats) => void, log?: IndexerLog): Storage {
  const committer = new GroupCommitter({
    db,
    onCommitted: (stats) => {
      onBatch?.(stats);
      indexer.stored(stats.events);
      if (queuedEvents(stats)) onCommitted?.();
    },
  });
  const indexer = searchIndexerFor(db, committer, log);
  return {
    storeEvent: (row) => committer.storeEvent(row),
    saveLead: (plan) => committer.saveLead(plan),
    replayEvents: (filter, now, actor) => committer.replayEvents(filter, now, actor),
    async close() {
      await indexer.stop();
      await committer.drain();
    },
  };
}

interface Waiter {
  resolve(value: never): void;
  reject(error: Error): void;
}

/**
 * The storage thread, seen from the request thread. Should the thread die (a native crash, an
 * out-of-memory), its pending requests fail with 503 — none was acknowledged — and a new thread
 * takes over; the pipeline worker's claims come back when their leases expire.
 */
export class StorageThread implements Storage {
  private thread!: Thread;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private closing = false;
  /** A thread is up and answering; false between a crash and its replacement's start. */
  private ready = false;
  private stopped: (() => void) | undefined;

  private constructor(
    private readonly data: StorageThreadData,
    private readonly log: FastifyBaseLogger,
    private readonly onStats?: (stats: PipelineStats) => void,
  ) {}

  /** `onStats` receives the thread's pipeline and group-commit counts (src/storage/pipeline-stats.ts). */
  static async start(data: StorageThreadData, log: FastifyBaseLogger, onStats?: (stats: PipelineStats) => void): Promise<StorageThread> {
    const storage = new StorageThread(data, log, onStats);
    await storage.spawn();
    return storage;
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const thread = startThread('./storage.thread', import.meta.url, this.data);
      this.thread = thread;
      let ready = false;
      thread.on('message', (reply: Reply) => {
        switch (reply.t) {
          case 'ready':
            ready = true;
            this.ready = true;
            resolve();
            break;
          case 'done':
            this.take(reply.id)?.resolve(reply.value as never);
            break;
          case 'fail':
            this.take(reply.id)?.reject(fromWire(reply.error));
            break;
          case 'stats':
            this.onStats?.(reply.stats);
            break;
          case 'stopped':
            this.stopped?.();
            break;
        }
      });
      thread.on('error', (err) => {
        if (!ready) return reject(err);
        this.log.error({ err }, 'storage thread failed');
      });
      thread.on('exit', (code) => {
        this.ready = false;
        this.failPending(new ThreadError(`storage thread exited with code ${code}`, undefined, true));
        if (!ready || this.closing) return this.stopped?.();
        this.log.error({ code }, 'storage thread exited; starting a new one');
        this.respawn(1000);
      });
    });
  }

  /** Starts a new thread; while none is ready, writes get 503 at once (never a hang). */
  private respawn(retryMs: number): void {
    if (this.closing) return;
    this.spawn().catch((err: unknown) => {
      this.log.error({ err, retryMs }, 'storage thread could not be restarted; retrying');
      setTimeout(() => this.respawn(Math.min(retryMs * 2, 30_000)), retryMs).unref();
    });
  }

  private take(id: number): Waiter | undefined {
    const waiter = this.waiting.get(id);
    this.waiting.delete(id);
    return waiter;
  }

  private failPending(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  private call<T>(request: (id: number) => Request): Promise<T> {
    if (this.closing) return Promise.reject(new ThreadError('storage is closing', undefined, true));
    if (!this.ready) return Promise.reject(new ThreadError('storage thread is restarting', undefined, true));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: never) => void, reject });
      this.thread.postMessage(request(id));
    });
  }

  storeEvent(row: NewEventRow): Promise<StoreEventOutcome> {
    return this.call((id) => ({ t: 'event', id, row }));
  }

  saveLead(plan: LeadSavePlan): Promise<SaveLeadResult> {
    return this.call((id) => ({ t: 'lead', id, plan }));
  }

  replayEvents(filter: EventFilter, now: number, actor: string): Promise<ReplayReport> {
    return this.call((id) => ({ t: 'replay', id, filter, now, actor }));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (!this.ready) {
      // No thread to drain (it died and its replacement is not up): nothing is pending.
      await this.thread.terminate();
      return;
    }
    const stopped = new Promise<void>((resolve) => (this.stopped = resolve));
    this.thread.postMessage({ t: 'stop' } satisfies Request);
    await stopped;
    await this.thread.terminate();
  }
}
