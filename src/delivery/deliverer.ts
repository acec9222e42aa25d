// The delivery loop: claims due messages, sends them, records what came of each. Sends run
// concurrently (DELIVERY_CONCURRENCY in all, DELIVERY_CONCURRENCY_PER_DESTINATION to one
// destination) and a slow destination holds only its own places.
// Claims lease more than the places (PREFETCH): the leased messages wait here, and when a send
// succeeds the next one to that destination starts at once, without waiting for a database round
// trip. A failure stops that destination's queue until its attempt is recorded and its health
// known (a failed probe must not let a second one out). Finished attempts are written together
// after a millisecond, with the claim that refills the queues: a burst of answers costs one
// transaction (inside the group commit on SQLite).
// Runs in the service's storage thread and in `dealer-gateway worker` processes; on PostgreSQL
// any number of them share the outbox (SKIP LOCKED claims, leases).
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { DeliveryConfig } from '../core/config.js';
import type { Db, Transact } from '../db/connect.js';
import { ownTransaction } from '../db/dialect.js';
import { enqueued } from '../outbox/outbox.write.js';
import {
  type AttemptRecord,
  type Claimed,
  claimMessages,
  type HealthChange,
  type Lease,
  type RecordedAttempt,
  recordAttempts,
  releaseLeases,
  releaseMessages,
} from './delivery.repository.js';
import { Dispatcher } from './dispatch.js';
import { parseAllowedNetworks } from './ssrf.js';

export interface DelivererOptions {
  readonly db: Db;
  readonly config: DeliveryConfig;
  readonly log: FastifyBaseLogger;
  readonly userAgent: string;
  /** The storage thread's group commit (SQLite: claims and records ride the gate's commits). */
  readonly transact?: Transact;
  /** After attempts are recorded, with what each led to (metrics). */
  readonly onRecorded?: (recorded: readonly RecordedAttempt[]) => void;
  readonly onHealthChange?: (change: HealthChange) => void;
  readonly clock?: () => number;
}

/**
 * A lease is twice the attempt's timeout: long enough that a sender recording a slow attempt
 * still holds it, short enough that the messages of a sender that died are sent again soon.
 */
const LEASE_PER_TIMEOUT = 2;
/** How long finished attempts gather before they are recorded (and their places refilled). */
const FLUSH_GATHER_MS = 3;
/**
 * Claims and attempt records commit without waiting for the disk (dialect.ts): a power failure
 * can undo the last few, and then their messages are sent again — at-least-once allows that, and
 * the fsync was the biggest single cost of a delivery on SQLite (docs/performance.md).
 */
const NOT_DURABLE = { durable: false } as const;
/** At stop, sends in flight get this long to finish: well inside SHUTDOWN_TIMEOUT_MS's default 10 s. */
const STOP_GRACE_MS = 3_000;
/**
 * Leased messages waiting here per place (docs/performance.md, "Delivery"): 16 places to one
 * destination sent 5 400 messages/s on SQLite when each place waited for the record-and-claim
 * transaction before its next send; with two waiting per place the places stay busy.
 */
const PREFETCH = 3;

export class Deliverer {
  readonly workerId = `delivery-${randomUUID()}`;
  private readonly sender: Dispatcher;
  private readonly transact: Transact;
  private readonly clock: () => number;
  /** Sends in flight, per destination. */
  private readonly inFlight = new Map<string, number>();
  /** Leased, not yet sent, per destination, oldest first. */
  private readonly ready = new Map<string, Claimed[]>();
  /** Destinations with a failed attempt not yet recorded: their queues wait for the record. */
  private readonly held = new Set<string>();
  /** Ready messages whose lease ran too short to send: given back with the next record. */
  private stale: Lease[] = [];
  private readonly sending = new Set<string>();
  private readonly finished: AttemptRecord[] = [];
  private readonly abort = new AbortController();
  private claiming: Promise<void> | undefined;
  private flushing: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Sends in flight, all destinations. */
  private total = 0;
  private waiting = 0;
  private reserved = 0;
  private seenEnqueued = enqueued.count;

  constructor(private readonly options: DelivererOptions) {
    this.clock = options.clock ?? Date.now;
    this.transact = options.transact ?? ownTransaction(options.db.kysely);
    const { config } = options;
    this.sender = new Dispatcher({
      timeoutMs: config.timeoutMs,
      perDestination: config.perDestination,
      allowed: parseAllowedNetworks(config.allowPrivateNetworks.join(',')),
      userAgent: options.userAgent,
      clock: this.clock,
      smtpUrl: config.smtpUrl,
      smtpAllowInsecure: config.smtpAllowInsecure,
      smtpFrom: config.smtpFrom,
    });
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.options.config.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Messages may be due (an outcome committed some, or a place freed up): claim now. */
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = this.claim()
      .catch((err: unknown) => this.options.log.warn({ err }, 'delivery claim failed; it will be tried again'))
      .finally(() => {
        this.claiming = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** After a commit in this thread: claim now if it inserted messages (else the poll finds others' work). */
  wakeIfEnqueued(): void {
    if (enqueued.count === this.seenEnqueued) return;
    this.seenEnqueued = enqueued.count;
    this.wake();
  }

  /**
   * Stops claiming; lets sends in flight finish for up to STOP_GRACE_MS (a restart should not send
   * them twice), then aborts the rest and gives their messages back, with those never sent (no
   * attempt counted).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.claiming;
    const graceEnds = Date.now() + Math.min(STOP_GRACE_MS, this.options.config.timeoutMs);
    while (this.total > 0 && Date.now() < graceEnds) await new Promise((resolve) => setTimeout(resolve, 5));
    const unfinished = [...this.sending, ...this.takeReady(() => true)];
    this.abort.abort();
    while (this.total > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.flushing;
    await this.flush();
    await releaseMessages(this.options.db.kysely, this.workerId, unfinished).catch((err: unknown) =>
      this.options.log.warn({ err }, 'delivery: releasing leases at stop failed; they expire on their own'),
    );
    await this.sender.close();
  }

  /** Places free for new claims: sends and waiting messages, less what is held or being claimed. */
  private room(): number {
    return this.stopped ? 0 : this.options.config.concurrency * (1 + PREFETCH) - this.total - this.waiting - this.reserved;
  }

  private claimOptions(now: number, limit: number) {
    const held = new Map(this.inFlight);
    for (const [name, queue] of this.ready) held.set(name, (held.get(name) ?? 0) + queue.length);
    return {
      workerId: this.workerId,
      now,
      limit,
      leaseMs: this.options.config.timeoutMs * LEASE_PER_TIMEOUT,
      inFlight: held,
      perDestination: this.options.config.perDestination * (1 + PREFETCH),
    };
  }

  private async claim(): Promise<void> {
    const room = this.room();
    if (room <= 0) return;
    this.reserved += room;
    try {
      const claimed = await this.transact(
        (trx) => claimMessages(trx, this.options.db.dialect, this.claimOptions(this.clock(), room)),
        NOT_DURABLE,
      );
      this.queue(claimed);
      // A full claim: more may be due.
      if (claimed.length === room && claimed.length > 0) this.again = true;
    } finally {
      this.reserved -= room;
    }
  }

  /** Newly leased messages join their destination's queue, which starts what its places allow. */
  private queue(claimed: readonly Claimed[]): void {
    for (const item of claimed) {
      const name = item.destination.name;
      const queue = this.ready.get(name);
      if (queue) queue.push(item);
      else this.ready.set(name, [item]);
      this.waiting++;
    }
    this.pump();
  }

  /** Starts waiting messages while places are free and their destination is not held (none once stopping: stop() gives them back). */
  private pump(): void {
    if (this.stopped) return;
    const { concurrency, perDestination, timeoutMs } = this.options.config;
    for (const [name, queue] of this.ready) {
      while (queue.length > 0 && this.total < concurrency && !this.held.has(name) && (this.inFlight.get(name) ?? 0) < perDestination) {
        const item = queue.shift() as Claimed;
        this.waiting--;
        // The lease must outlast the attempt, or another sender could take the message meanwhile.
        if ((item.message.locked_until ?? 0) - this.clock() <= timeoutMs) {
          this.stale.push({ id: item.message.id, lockedUntil: item.message.locked_until ?? 0 });
          this.scheduleFlush(); // given back now, not when the next answer comes
        } else this.send(item);
      }
      if (queue.length === 0) this.ready.delete(name);
    }
  }

  /** Takes the waiting messages of the destinations `which` names; returns their ids. */
  private takeReady(which: (destination: string) => boolean): string[] {
    const ids: string[] = [];
    for (const [name, queue] of this.ready) {
      if (!which(name)) continue;
      ids.push(...queue.map((item) => item.message.id));
      this.waiting -= queue.length;
      this.ready.delete(name);
    }
    return ids;
  }

  private send({ message, destination }: Claimed): void {
    const name = destination.name;
    this.total++;
    this.inFlight.set(name, (this.inFlight.get(name) ?? 0) + 1);
    this.sending.add(message.id);
    void this.sender.send(destination, message, this.abort.signal).then((record) => {
      this.total--;
      this.inFlight.set(name, (this.inFlight.get(name) ?? 1) - 1);
      if (this.stopped && this.abort.signal.aborted && record.verdict !== 'delivered') return; // released at stop
      this.sending.delete(message.id);
      this.finished.push(record);
      // A success lets the next one go at once; anything else holds the destination until the
      // record is written and its health known.
      if (record.verdict !== 'delivered') this.held.add(name);
      this.pump();
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    // Answers that come within a millisecond are recorded together: one commit for a burst.
    this.flushing = new Promise<void>((resolve) => setTimeout(resolve, FLUSH_GATHER_MS))
      .then(() => this.flush())
      .catch((err: unknown) =>
        this.options.log.error({ err }, 'delivery: recording attempts failed; the leases expire and the messages are sent again'),
      )
      .finally(() => {
        this.flushing = undefined;
        if (this.finished.length > 0) this.scheduleFlush();
        this.wake();
      });
  }

  private async flush(): Promise<void> {
    const records = this.finished.splice(0);
    const stale = this.stale.splice(0);
    if (records.length === 0 && stale.length === 0) return;
    const now = this.clock();
    // The places these attempts free are filled in the same transaction: a busy sender commits
    // once per round (record + claim) instead of twice.
    const room = this.room();
    this.reserved += Math.max(0, room);
    let claimed: Claimed[] = [];
    let recorded: readonly RecordedAttempt[] = [];
    let changes: readonly HealthChange[] = [];
    try {
      await this.transact(async (trx) => {
        ({ recorded, changes } = await recordAttempts(trx, records, this.workerId, {
          now,
          disableAfterMs: this.options.config.disableAfterDays * 86_400_000,
        }));
        await releaseLeases(trx, this.workerId, stale);
        claimed = room > 0 ? await claimMessages(trx, this.options.db.dialect, this.claimOptions(now, room)) : [];
      }, NOT_DURABLE);
    } finally {
      this.reserved -= Math.max(0, room);
      // Recorded (or, if the transaction failed, left to their leases): the queues may go on.
      for (const r of records) this.held.delete(r.message.destination);
    }
    // A destination whose breaker opened, or that was disabled, sends nothing more: its waiting
    // messages go back (they wait in the outbox, due as before).
    const stopped = new Set(changes.filter((c) => c.change !== 'breaker-closed').map((c) => c.destination));
    const giveBack = this.takeReady((name) => stopped.has(name));
    if (giveBack.length > 0) {
      await releaseMessages(this.options.db.kysely, this.workerId, giveBack).catch((err: unknown) =>
        this.options.log.warn({ err }, 'delivery: giving back leases failed; they expire on their own'),
      );
    }
    this.queue(this.stopped ? [] : claimed);
    this.options.onRecorded?.(recorded);
    for (const change of changes) {
      this.options.log.warn(
        { destination: change.destination, change: change.change, reason: change.reason },
        `delivery: destination ${change.change}`,
      );
      this.options.onHealthChange?.(change);
    }
  }
}
