// Group commit: the writes of concurrent requests — received events, lead saves and replays —
// share one transaction, so one fsync acknowledges many requests. On SQLite the in-process worker's claims
// and outcomes join the same transactions as tasks (`transact`): one commit per cycle of the one
// writer instead of three. Nothing waits for a batch to fill: a
// batch starts as soon as the previous one has committed and takes whatever arrived meanwhile
// (up to maxBatch), so a lone request pays one commit and a burst pays one commit per batch.
// Each request's promise settles only after its batch committed: 200 still means on disk.
//
// A batch that fails as a whole (a statement or the COMMIT) is retried one job per transaction,
// so a write the database refuses fails its own request alone. Within a batch, a lead refused
// for its references (404/422) is refused before it writes, and does not disturb the others.
import type { Kysely } from 'kysely';
import type { Db, TransactOptions } from '../db/connect.js';
import { notifyEventsStored, ownTransaction } from '../db/dialect.js';
import type { Database, EventRow, NewEventRow } from '../db/schema.js';
import type { EventFilter } from '../eventlog/event.filter.js';
import * as events from '../eventlog/event.repository.js';
import type { LeadSavePlan, SaveLeadResult } from '../leads/lead.model.js';
import { writeLeads } from '../leads/lead.write.js';
import { type ReplayReport, replayEventsIn } from '../pipeline/replay.js';

export type { NewEventRow };

/** What became of a received event: stored, or an earlier event holds its idempotency key. */
export type StoreEventOutcome =
  | { readonly stored: true }
  | { readonly stored: false; readonly existing: { readonly requestId: string; readonly bodySha256: string } | null };

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Work run inside a batch's transaction; it commits (or rolls back) with the batch. */
export type TransactionWork<T> = (trx: Kysely<Database>) => Promise<T>;

type Job =
  | { readonly kind: 'event'; readonly row: NewEventRow; readonly waiter: Waiter<StoreEventOutcome> }
  | { readonly kind: 'lead'; readonly plan: LeadSavePlan; readonly waiter: Waiter<SaveLeadResult> }
  | {
      readonly kind: 'replay';
      readonly filter: EventFilter;
      readonly now: number;
      readonly actor: string;
      readonly waiter: Waiter<ReplayReport>;
    }
  | { readonly kind: 'task'; readonly work: TransactionWork<unknown>; readonly durable: boolean; readonly waiter: Waiter<unknown> };

export interface BatchStats {
  readonly events: number;
  readonly leads: number;
  readonly tasks: number;
  /** Events the batch's replays put back in the queue. */
  readonly replayed: number;
  readonly ms: number;
}

/** The batch put events in the queue (stored or replayed): an idle worker has work. */
export const queuedEvents = (batch: BatchStats): boolean => batch.events > 0 || batch.replayed > 0;

export interface GroupCommitOptions {
  readonly db: Db;
  /** Most jobs per transaction; a larger backlog is split over several batches. */
  readonly maxBatch?: number;
  /** Batches committing at once: 1 on SQLite (one writer), a few on PostgreSQL. */
  readonly maxConcurrent?: number;
  /** After each commit (the in-process worker's wake-up when events were stored or replayed: queuedEvents). */
  readonly onCommitted?: (stats: BatchStats) => void;
  /**
   * The in-process worker's hand-off (SQLite): asked before a batch's events are inserted, it
   * may answer a lease; the events are then stored already claimed by that worker, and handed to
   * `onLeased` once committed — no claim statement, no second read of their bodies.
   */
  readonly handOff?: {
    lease(count: number): { readonly lockedBy: string; readonly until: number } | undefined;
    onLeased(rows: readonly EventRow[]): void;
  };
}

/** How long after the last partner write the gate counts as quiet (search-index.ts waits for it). */
const GATE_QUIET_MS = 100;

export class GroupCommitter {
  private queue: Job[] = [];
  private active = 0;
  private lastGateJobAt = Number.NEGATIVE_INFINITY;
  private scheduled = false;
  private readonly idle: (() => void)[] = [];
  private readonly maxBatch: number;
  private readonly maxConcurrent: number;

  constructor(private readonly options: GroupCommitOptions) {
    this.maxBatch = options.maxBatch ?? 256;
    this.maxConcurrent = options.maxConcurrent ?? (options.db.dialect === 'sqlite' ? 1 : 4);
  }

  storeEvent(row: NewEventRow): Promise<StoreEventOutcome> {
    this.lastGateJobAt = performance.now();
    return new Promise((resolve, reject) => this.push({ kind: 'event', row, waiter: { resolve, reject } }));
  }

  saveLead(plan: LeadSavePlan): Promise<SaveLeadResult> {
    this.lastGateJobAt = performance.now();
    return new Promise((resolve, reject) => this.push({ kind: 'lead', plan, waiter: { resolve, reject } }));
  }

  /**
   * Replays the events matching `filter` (src/pipeline/replay.ts) in the next batch; its commit
   * wakes the in-process worker (`onCommitted`) as a batch of new events does.
   */
  replayEvents(filter: EventFilter, now: number, actor: string): Promise<ReplayReport> {
    return new Promise((resolve, reject) => this.push({ kind: 'replay', filter, now, actor, waiter: { resolve, reject } }));
  }

  /** Partners' writes (events, leads) arrived in the last 100 ms: background work should wait. */
  get gateBusy(): boolean {
    return performance.now() - this.lastGateJobAt < GATE_QUIET_MS;
  }

  /**
   * Runs `work` inside the next batch's transaction and resolves with its result once that batch
   * has committed. If `work` throws, the batch is retried job by job and `work` fails alone.
   * `durable: false`: the work may be lost in a power failure (transactionNotWaitingForDisk); a
   * batch of such tasks alone commits without an fsync, a batch with anything else with one.
   */
  transact<T>(work: TransactionWork<T>, options: TransactOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.push({
        kind: 'task',
        work,
        durable: options.durable !== false,
        waiter: { resolve: resolve as (value: unknown) => void, reject },
      }),
    );
  }

  /** Jobs waiting for a batch or in one now. */
  get pending(): number {
    return this.queue.length + this.active;
  }

  /** Resolves once every job handed in so far has settled. */
  async drain(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private push(job: Job): void {
    this.queue.push(job);
    if (this.scheduled || this.active >= this.maxConcurrent) return;
    // Start on the next turn of the event loop, not now: requests whose bodies arrived in the
    // same turn (or messages queued for the storage thread) join this batch.
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startBatches();
    });
  }

  private startBatches(): void {
    while (this.active < this.maxConcurrent && this.queue.length > 0) {
      const jobs = this.queue.splice(0, this.maxBatch);
      this.active++;
      this.commit(jobs).finally(() => {
        this.active--;
        if (this.queue.length > 0) this.startBatches();
        else if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async commit(jobs: Job[]): Promise<void> {
    const started = performance.now();
    let results: Settled<unknown>[];
    const leased: EventRow[] = [];
    try {
      // Only a batch of the sender's bookkeeping alone skips the fsync: a partner's write, a
      // replay or a pipeline outcome in the batch makes the whole commit durable.
      const durable = jobs.some((job) => job.kind !== 'task' || job.durable);
      results = await ownTransaction(this.options.db.kysely)((trx) => this.write(trx, jobs, leased), { durable });
    } catch (batchError) {
      if (jobs.length === 1) {
        (jobs[0] as Job).waiter.reject(batchError);
        return;
      }
      // One job per transaction: only the jobs the database refuses fail.
      await Promise.all(jobs.map((job) => this.commit([job])));
      return;
    }
    const stats = { events: 0, leads: 0, tasks: 0, replayed: 0, ms: performance.now() - started };
    jobs.forEach((job, i) => {
      const result = results[i] as Settled<unknown>;
      if (job.kind === 'event') stats.events++;
      else if (job.kind === 'lead') stats.leads++;
      else if (job.kind === 'replay') stats.replayed += result.ok ? (result.value as ReplayReport).replayed : 0;
      else stats.tasks++;
      if (result.ok) (job.waiter as Waiter<unknown>).resolve(result.value);
      else job.waiter.reject(result.error);
    });
    if (leased.length > 0) this.options.handOff?.onLeased(leased);
    this.options.onCommitted?.(stats);
  }

  /**
   * Writes every job inside `trx`; returns one result per job, in order. Events stored already
   * leased to the in-process worker are pushed to `leased` (handed over once committed).
   */
  private async write(trx: Kysely<Database>, jobs: readonly Job[], leased: EventRow[]): Promise<Settled<unknown>[]> {
    const results: Settled<unknown>[] = new Array(jobs.length);
    let rows = jobs.flatMap((job) => (job.kind === 'event' ? [job.row] : []));
    const lease = rows.length > 0 ? this.options.handOff?.lease(rows.length) : undefined;
    // As a claim would leave them: leased to the worker, this first attempt counted.
    if (lease) rows = rows.map((row) => ({ ...row, locked_by: lease.lockedBy, locked_until: lease.until, attempts: 1 }));
    if (rows.length > 0) {
      // One multi-row INSERT for all events of the batch: one statement, one round trip.
      const stored = await events.insertEvents(trx, rows);
      if (lease) leased.push(...(rows.filter((row) => stored.has(row.request_id)) as EventRow[]));
      if (stored.size > 0) await notifyEventsStored(trx, this.options.db.dialect);
      for (const [i, job] of jobs.entries()) {
        if (job.kind !== 'event') continue;
        if (stored.has(job.row.request_id)) {
          results[i] = { ok: true, value: { stored: true } };
          continue;
        }
        // The idempotency key is taken (rare): report the event that holds it.
        const existing = await events.findByIdempotencyKey(trx, job.row.username, job.row.idempotency_key ?? '');
        results[i] = {
          ok: true,
          value: { stored: false, existing: existing ? { requestId: existing.request_id, bodySha256: existing.body_sha256 } : null },
        };
      }
    }
    // All the batch's leads in a few statements (lead.service.ts). A lead refused for its
    // references (404/422) writes nothing and fails alone. Anything else the database refuses
    // fails the batch: on PostgreSQL the transaction is aborted, and a COMMIT would silently roll
    // back its batch mates. The batch is then retried job by job.
    const leadJobs = [...jobs.entries()].filter(([, job]) => job.kind === 'lead') as [number, Extract<Job, { kind: 'lead' }>][];
    if (leadJobs.length > 0) {
      const written = await writeLeads(
        trx,
        leadJobs.map(([, job]) => job.plan),
      );
      for (const [n, [i]] of leadJobs.entries()) results[i] = written[n] as Settled<unknown>;
    }
    // Replays, then tasks: a claim then sees the events inserted or replayed above. A replay or
    // a task that throws fails the batch.
    for (const [i, job] of jobs.entries()) {
      if (job.kind === 'replay') results[i] = { ok: true, value: await replayEventsIn(trx, job.filter, job.now, job.actor) };
    }
    for (const [i, job] of jobs.entries()) {
      if (job.kind === 'task') results[i] = { ok: true, value: await job.work(trx) };
    }
    return results;
  }
}
