// Where a batch's events are assessed (partner schema, JSONata, dealer, canonical checks — the
// CPU-heavy part of the pipeline, no table reads): on the worker's own thread, or on a thread
// of their own. The thread lets the worker's thread run SQL meanwhile — the next claim, the
// last batch's outcomes, and in the service the gate's commits — and bounds a runaway
// expression to that thread. WORKER_EVALUATION_THREAD (default true) chooses.
import type { Worker as Thread } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { SubscriberDirectory } from '../auth/directory.js';
import type { DatabaseConfig } from '../core/config.js';
import type { Database, EventRow } from '../db/schema.js';
import { fromWire, startThread, ThreadError, type WireError } from '../db/threads.js';
import { type Assessed, assessEvent, type Outcome } from './evaluate.js';

export type Rejected = Extract<Outcome, { kind: 'rejected' }>;
export type Assessment = { readonly ok: true; readonly result: Assessed | Rejected } | { readonly ok: false; readonly error: Error };

export interface Assessor {
  /** One assessment per event, in order; an event that threw gets its error. */
  assess(events: readonly EventRow[]): Promise<Assessment[]>;
  close(): Promise<void>;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function contextOf(db: Kysely<Database>, directory: SubscriberDirectory) {
  return {
    db,
    integrationOf: (u: string, t: string) => directory.integrationOf(u, t),
    principalOf: (u: string) => directory.principalOf(u),
    isKnownDealer: (d: string) => directory.isKnownDealer(d),
  };
}

/**
 * Assesses on the calling thread, up to `concurrency` events at once, yielding to the event
 * loop between events: in the storage thread the gate's next batch goes first. Once `stopping()`
 * says so, no further event is started: the answer then covers the first events only.
 */
export function inlineAssessor(
  db: Kysely<Database>,
  directory: SubscriberDirectory,
  concurrency: number,
  stopping: () => boolean = () => false,
): Assessor {
  const ctx = contextOf(db, directory);
  return {
    async assess(events) {
      const results: Assessment[] = new Array(events.length);
      let next = 0;
      const lane = async () => {
        while (next < events.length && !stopping()) {
          const i = next++;
          try {
            results[i] = { ok: true, result: await assessEvent(ctx, events[i] as EventRow) };
          } catch (err) {
            results[i] = { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
          }
          await yieldToEventLoop();
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, events.length) }, lane));
      return results.slice(0, next);
    },
    close: async () => {},
  };
}

export interface AssessThreadData {
  readonly database: DatabaseConfig;
}

export interface AssessRequest {
  readonly id: number;
  readonly events: readonly EventRow[];
}
/** An assessment as it crosses the thread boundary. */
export type WireAssessment =
  | { readonly ok: true; readonly result: Assessed | Rejected }
  | { readonly ok: false; readonly error: WireError };
export type AssessReply = { readonly id: number; readonly results: readonly WireAssessment[] } | { readonly ready: true };

/** Assesses on a thread of its own (assess.thread.ts), which reads the directory itself. */
export class ThreadAssessor implements Assessor {
  private readonly waiting = new Map<number, { resolve: (r: Assessment[]) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly thread: Thread,
    private readonly log: FastifyBaseLogger,
  ) {
    thread.on('message', (reply: AssessReply) => {
      if ('ready' in reply) return;
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      waiter?.resolve(reply.results.map((r) => (r.ok ? r : { ok: false, error: fromWire(r.error) })));
    });
    thread.on('error', (err) => this.log.error({ err }, 'evaluation thread failed'));
    thread.on('exit', (code) => {
      // Pending batches fail as transient errors: their events are retried.
      for (const waiter of this.waiting.values())
        waiter.reject(new ThreadError(`evaluation thread exited with code ${code}`, undefined, true));
      this.waiting.clear();
      this.closed = true;
    });
  }

  static start(data: AssessThreadData, log: FastifyBaseLogger): Promise<ThreadAssessor> {
    const thread = startThread('./assess.thread', import.meta.url, data);
    return new Promise((resolve, reject) => {
      const onReady = (reply: AssessReply) => {
        if (!('ready' in reply)) return;
        thread.off('message', onReady);
        thread.off('error', reject);
        resolve(new ThreadAssessor(thread, log));
      };
      thread.on('message', onReady);
      thread.once('error', reject);
    });
  }

  assess(events: readonly EventRow[]): Promise<Assessment[]> {
    if (this.closed) return Promise.reject(new ThreadError('evaluation thread is gone', undefined, true));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.thread.postMessage({ id, events } satisfies AssessRequest);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.thread.terminate();
  }
}
