// The pipeline worker: claim a batch, evaluate and store each event, repeat while there is work;
// when idle, sleep until woken by the gate (in-process) or the poll interval (separate process).
// Several workers — in several processes, on PostgreSQL — share the queue through claims.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { SubscriberDirectory } from '../auth/directory.js';
import type { WorkerConfig } from '../core/config.js';
import type { Db, Transact } from '../db/connect.js';
import { isTransientDbError } from '../db/dialect.js';
import type { EventRow } from '../db/schema.js';
import { type Assessment, type Assessor, inlineAssessor, type Rejected } from './assessor.js';
import { claimBatch, releaseClaims } from './claim.js';
import { type Completion, storeOutcomes } from './complete.js';
import { type Assessed, linkVehicles, type Outcome } from './evaluate.js';
import { type RetentionScheduler, startRetention } from './retention.js';
import { recordFailure } from './retry.js';

/** How long a woken worker waits for more events when its last batch was not full. */
const WAKE_COALESCE_MS = 20;
/**
 * Events handed over by the gate's commits (handOff) and not yet taken: past this, new events
 * are stored unleased and claimed as usual. Two batches: a few hundred ms of work, far inside
 * any lease, so a handed-over event is never also claimed again by this worker.
 */
const HAND_OFF_CAP_BATCHES = 2;
/** While handed-over events fill every batch, the queue is still claimed from this often (retries, replays). */
const CLAIM_AT_LEAST_EVERY_MS = 1000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface StartedBatch {
  readonly events: EventRow[];
  readonly healthy: EventRow[];
  readonly poisoned: EventRow[];
  readonly assessing: Promise<Assessment[]>;
}

export interface BatchReport {
  claimed: number;
  processed: number;
  rejected: number;
  retried: number;
  failed: number;
  leaseLost: number;
}

/** What became of one event of a batch (for metrics: `WorkerOptions.onBatch`). */
export interface EventTally {
  readonly event: EventRow;
  readonly outcome: Exclude<keyof BatchReport, 'claimed'>;
}

export interface WorkerOptions {
  readonly db: Db;
  readonly directory: SubscriberDirectory;
  readonly log: FastifyBaseLogger;
  readonly config: WorkerConfig;
  readonly workerId?: string;
  /** Where events are assessed (assessor.ts); by default on this thread. */
  readonly assessor?: Assessor;
  /** The transaction claims and outcomes are written in; by default their own. */
  readonly transact?: Transact;
  /** Called after each batch with its report and each event's outcome (src/metrics/ counts them). */
  readonly onBatch?: (report: BatchReport, events: readonly EventTally[]) => void;
}

export class Worker {
  readonly id: string;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private pendingWake = false;
  private readonly assessor: Assessor;
  /** The next batch, claimed (and being assessed) while the current one is stored. */
  private prefetched: Promise<StartedBatch> | undefined;
  /** The retention purge (retention.ts), run while the loop runs when the config asks for it. */
  private retention: RetentionScheduler | undefined;
  /** When the loop last went round (epoch ms): readiness fails when it stops moving (src/metrics/). */
  lastBeatAt = Date.now();
  /** Events the gate stored already leased to this worker, oldest first (handOff). */
  private handedOff: EventRow[] = [];
  private lastClaimAt = 0;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.assessor =
      options.assessor ?? inlineAssessor(options.db.kysely, options.directory, options.config.concurrency, () => this.stopping);
  }

  /** Claims and processes one batch. `fixedNow` pins the clock, so tests can move time. */
  runOnce(fixedNow?: number): Promise<BatchReport> {
    return this.runBatch(false, fixedNow);
  }

  /**
   * Claims a batch and starts assessing it at once. An event claimed more often than allowed has
   * killed workers (a poison event): it is not assessed again but failed (by runBatch).
   */
  private async startBatch(now: number): Promise<StartedBatch> {
    const { db, config } = this.options;
    // Events handed over by the gate first (their lease still runs: one that ran out may have
    // been claimed by another worker meanwhile, and is left to the claims). The queue itself is
    // still claimed when they do not fill the batch, and at least once a second.
    const fresh = this.handedOff.splice(0, config.batchSize).filter((e) => e.locked_until !== null && e.locked_until > now);
    let events = fresh;
    if (fresh.length < config.batchSize || now - this.lastClaimAt >= CLAIM_AT_LEAST_EVERY_MS) {
      this.lastClaimAt = now;
      const claimed = await claimBatch(
        db,
        { workerId: this.id, now, limit: Math.max(config.batchSize - fresh.length, 25), leaseMs: config.leaseMs },
        this.options.transact,
      );
      events = fresh.length === 0 ? claimed : [...fresh, ...claimed];
    }
    const healthy = events.filter((e) => e.attempts <= config.maxAttempts);
    const poisoned = events.filter((e) => e.attempts > config.maxAttempts);
    const assessing = healthy.length === 0 || this.stopping ? Promise.resolve([]) : this.assessor.assess(healthy);
    assessing.catch(() => {}); // awaited by runBatch
    return { events, healthy, poisoned, assessing };
  }

  /**
   * One batch: claim and assess, link vehicles, store outcomes. In the loop (`prefetch`), after a
   * full batch the next one is claimed and handed to the assessor before this one is stored: with
   * the assessor on its own thread, its CPU and this thread's SQL overlap.
   */
  private async runBatch(prefetch: boolean, fixedNow?: number): Promise<BatchReport> {
    const { db, directory, config } = this.options;
    const clock = () => fixedNow ?? Date.now();
    // Replays and fixes to an integration take effect on the next batch claimed (a batch claimed
    // ahead was assessed with the configuration of its own claim time).
    await directory.refresh();
    const started = this.prefetched ?? this.startBatch(clock());
    this.prefetched = undefined;
    const { events, healthy, poisoned, assessing } = await started;
    const report: BatchReport = { claimed: events.length, processed: 0, rejected: 0, retried: 0, failed: 0, leaseLost: 0 };
    const tallies: EventTally[] | undefined = this.options.onBatch ? [] : undefined;
    const tally = (event: EventRow, outcome: EventTally['outcome']) => {
      report[outcome]++;
      tallies?.push({ event, outcome });
    };
    if (prefetch && events.length >= config.batchSize && !this.stopping) {
      this.prefetched = this.startBatch(clock());
      this.prefetched.catch(() => {}); // awaited (and its error reported) by the next batch
    }
    for (const event of poisoned) {
      await this.fail(event, new Error(`event was claimed ${event.attempts} times without completing`), clock(), tally);
    }
    let assessments: Assessment[];
    try {
      assessments = await assessing;
    } catch (err) {
      assessments = healthy.map(() => ({ ok: false as const, error: err instanceof Error ? err : new Error(String(err)) }));
    }
    const assessed: { event: EventRow; result: Assessed | Rejected }[] = [];
    for (const [i, assessment] of assessments.entries()) {
      const event = healthy[i] as EventRow;
      if (assessment.ok) assessed.push({ event, result: assessment.result });
      else await this.fail(event, assessment.error, clock(), tally);
    }
    if (assessments.length < healthy.length) {
      // stop() was called: hand back what was not assessed instead of letting leases run out.
      await this.release(healthy.slice(assessments.length), clock());
    }
    // Vehicle links for the whole batch: two queries, not one or two per event.
    let completions: Completion[] = [];
    try {
      const outcomes = await linkVehicles(
        db.kysely,
        assessed.map((a) => a.result),
      );
      completions = assessed.map(({ event }, i) => ({ event, outcome: outcomes[i] as Outcome }));
    } catch (err) {
      for (const { event } of assessed) await this.fail(event, err, clock(), tally);
    }

    // Commit every outcome in one transaction. If that fails, commit them one by one, so that one
    // event the database refuses cannot hold back (and exhaust the retries of) its batch.
    let lost: Set<string>;
    let settled: readonly Completion[] = completions;
    try {
      lost = await storeOutcomes(db.kysely, completions, this.id, clock(), this.options.transact);
    } catch (batchErr) {
      this.options.log.warn({ err: batchErr, events: completions.length }, 'batch commit failed; committing events one by one');
      lost = new Set();
      const committed: Completion[] = [];
      for (const completion of completions) {
        try {
          for (const id of await storeOutcomes(db.kysely, [completion], this.id, clock(), this.options.transact)) lost.add(id);
          committed.push(completion);
        } catch (err) {
          await this.fail(completion.event, err, clock(), tally);
        }
      }
      settled = committed;
    }
    const { log } = this.options;
    for (const { event, outcome } of settled) {
      if (lost.has(event.request_id)) {
        tally(event, 'leaseLost');
        log.warn(this.eventFields(event), 'lease lost; another worker owns the event now');
        continue;
      }
      tally(event, outcome.kind);
      // A processed event is logged at debug (thousands a second in a drain: 10–15 % of a busy
      // service's CPU at info); a rejection, which someone may have to act on, at info.
      if (outcome.kind === 'rejected') {
        log.info(
          {
            ...this.eventFields(event),
            status: 'REJECTED',
            dealerUuid: outcome.dealerUuid,
            errorCodes: outcome.errors.map((e) => e.errorCode),
          },
          'event processed',
        );
      } else {
        log.debug({ ...this.eventFields(event), status: 'PROCESSED', dealerUuid: outcome.dealerUuid }, 'event processed');
      }
    }
    if (report.claimed > 0) {
      const { claimed, processed, rejected, retried, failed, leaseLost } = report;
      log.info({ workerId: this.id, claimed, processed, rejected, retried, failed, leaseLost }, 'batch processed');
    }
    if (tallies) this.options.onBatch?.(report, tallies);
    return report;
  }

  private eventFields(event: EventRow) {
    return { requestId: event.request_id, subscriber: event.username, attempt: event.attempts };
  }

  private async release(events: readonly EventRow[], now: number): Promise<void> {
    if (events.length === 0) return;
    await releaseClaims(
      this.options.db,
      this.id,
      events.map((e) => e.request_id),
      now,
    ).catch((err: unknown) => {
      this.options.log.warn({ err }, 'could not release claims; their leases will expire');
    });
  }

  /** A transient failure: schedule a retry (or FAILED after the last attempt). */
  private async fail(
    event: EventRow,
    err: unknown,
    now: number,
    tally: (event: EventRow, outcome: 'failed' | 'retried') => void,
  ): Promise<void> {
    const fields = this.eventFields(event);
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    this.options.log[isTransientDbError(err) ? 'warn' : 'error']({ ...fields, err }, 'event processing failed');
    try {
      const decision = await recordFailure(this.options.db.kysely, event, this.id, detail, now, this.options.config.maxAttempts);
      tally(event, decision.kind === 'failed' ? 'failed' : 'retried');
    } catch (recordErr) {
      // The database is down: the lease will expire and the event will be claimed again.
      this.options.log.warn({ ...fields, err: recordErr }, 'could not record the failure; the lease will return the event');
      tally(event, 'retried');
    }
  }

  /** Starts the loop. Returns at once; stop() ends it. */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop();
    const { db, config, log, transact } = this.options;
    if (config.retention) this.retention = startRetention({ db, config: config.retention, log, transact });
  }

  /**
   * The lease for events about to be stored, if this worker takes them straight from the gate's
   * commit (SQLite, in-process: GroupCommitOptions.handOff); none while stopping or when enough
   * are waiting already.
   */
  leaseForHandOff(count: number, now = Date.now()): { lockedBy: string; until: number } | undefined {
    if (this.running === undefined || this.stopping) return undefined;
    if (this.handedOff.length + count > HAND_OFF_CAP_BATCHES * this.options.config.batchSize) return undefined;
    return { lockedBy: this.id, until: now + this.options.config.leaseMs };
  }

  /** Events stored (and committed) leased to this worker by leaseForHandOff. */
  handOff(rows: readonly EventRow[]): void {
    if (this.stopping) {
      // Stopping meanwhile: give them back at once rather than when the lease runs out.
      void this.release(rows, Date.now());
      return;
    }
    this.handedOff.push(...rows);
    this.wake();
  }

  /** Asks an idle worker to look for work now (the gate calls this after storing an event). */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.retention?.stop();
    this.retention = undefined;
    await this.running;
    this.running = undefined;
    // A batch claimed ahead, and events handed over but not started, go back to the queue at once.
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    if (prefetched) await this.release((await prefetched.catch(() => undefined))?.events ?? [], Date.now());
    await this.release(this.handedOff.splice(0), Date.now());
    await this.assessor.close();
  }

  private async loop(): Promise<void> {
    const { log, config } = this.options;
    let failures = 0;
    while (!this.stopping) {
      this.lastBeatAt = Date.now();
      this.pendingWake = false;
      let report: BatchReport | undefined;
      try {
        report = await this.runBatch(true);
        failures = 0;
      } catch (err) {
        failures++;
        log.warn({ err, workerId: this.id }, 'claiming events failed; backing off');
      }
      if (this.stopping) break;
      // A full batch means more may be waiting: go again at once.
      if (report && report.claimed >= config.batchSize) continue;
      if (this.pendingWake && failures === 0) {
        // Woken while the last batch was not full: let more events arrive before claiming again.
        // Claim + outcome are two commits whatever the batch size, so under a steady stream of
        // small gate batches this turns ~200 tiny claims a second into ~50 fuller ones.
        await sleep(WAKE_COALESCE_MS);
        continue;
      }
      const idleMs = failures > 0 ? Math.min(30_000, config.pollMs * 2 ** Math.min(failures, 5)) : config.pollMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, idleMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }
}
