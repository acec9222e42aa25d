// Retention: the worker deletes what is no longer needed, in small batches, each its own short
// transaction (docs/operations.md, "Retention"):
//   - the raw bodies of PROCESSED events older than RETENTION_BODY_DAYS (REJECTED and FAILED
//     events keep theirs: operators replay them, and a replay needs the body);
//   - the idempotency keys of events older than RETENTION_IDEMPOTENCY_DAYS (set to NULL: the
//     unique index stops holding them, so the key may be used again; the event row stays).
//   - delivered outbox messages older than RETENTION_BODY_DAYS, with their attempt logs
//     (outbox.purge.ts; dead letters stay).
// The event rows, their timelines and the canonical records stay.
//
// Each sweep walks the events by (received_at, request_id) — the events_by_received index —
// a window of BATCH_SIZE rows per transaction, so a batch costs the same however many rows are
// eligible, and remembers where it stopped: the next run starts there, not from the beginning.
// The body sweep starts again from the beginning once a day (FULL_SWEEP_MS), for events that
// became PROCESSED late (a replay of an old event). On SQLite inside the storage thread each
// batch is a group-commit task (`Transact`): the gate's writes go on between batches.
import type { Kysely } from 'kysely';
import type { RetentionConfig } from '../core/config.js';
import type { Db, Transact } from '../db/connect.js';
import { ownTransaction, skipLockedRows, tryRetentionLock } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import type { EventStatus } from '../eventlog/event.model.js';
import { purgeDeliveredMessages } from '../outbox/outbox.purge.js';

/** Events examined per transaction. */
export const RETENTION_BATCH_SIZE = 500;
/** Final states whose bodies are purged. Not REJECTED or FAILED: a replay needs the body. */
const PURGED_BODY_STATUSES: readonly EventStatus[] = ['PROCESSED'];
/** How often the body sweep starts from the oldest event again. */
const FULL_SWEEP_MS = 24 * 3_600_000;
const DAY_MS = 86_400_000;

/** Where a sweep stopped: the last event it examined. */
interface Cursor {
  readonly receivedAt: number;
  readonly requestId: string;
}

/** What a run remembers for the next: where each sweep stopped. */
export interface RetentionState {
  bodies: Cursor | null;
  keys: Cursor | null;
  /** When the body sweep last started from the beginning (epoch ms). */
  bodiesRestartedAt: number;
}

export const initialRetentionState = (): RetentionState => ({ bodies: null, keys: null, bodiesRestartedAt: 0 });

export interface RetentionReport {
  /** Raw bodies deleted. */
  bodiesPurged: number;
  /** Idempotency keys released. */
  keysReleased: number;
  /** Delivered outbox messages deleted. */
  messagesPurged: number;
  /** Transactions that examined events. */
  batches: number;
  /** Another process held the purge lock (PostgreSQL): this run stopped early. */
  skipped: boolean;
}

export interface RetentionRunOptions {
  readonly db: Db;
  readonly config: RetentionConfig;
  /** The clock (epoch ms); tests move it. */
  readonly now: number;
  /** The transaction each batch runs in: on SQLite in the storage thread, the group commit's. */
  readonly transact?: Transact;
  /** Carried from run to run by the scheduler; a fresh one sweeps from the oldest event. */
  readonly state?: RetentionState;
  /** Asked between batches: true ends the run (the worker is stopping). */
  readonly stopping?: () => boolean;
  readonly batchSize?: number;
}

type Part = 'bodies' | 'keys';

interface BatchOutcome {
  readonly examined: number;
  readonly changed: number;
  readonly last: Cursor | null;
  readonly locked: boolean;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One batch: the next window of events received before `cutoff` after `cursor`, and in it the
 * bodies (of PROCESSED events finished before the cutoff) or the keys to drop.
 */
async function purgeBatch(
  trx: Kysely<Database>,
  db: Db,
  part: Part,
  cursor: Cursor | null,
  cutoff: number,
  limit: number,
): Promise<BatchOutcome> {
  if (!(await tryRetentionLock(trx, db.dialect))) return { examined: 0, changed: 0, last: cursor, locked: false };
  let window = trx.selectFrom('events').select(['request_id', 'received_at']).where('received_at', '<', cutoff);
  if (cursor) {
    const { receivedAt, requestId } = cursor;
    // The plain range first: both planners turn it into an index range (an OR alone may not).
    window = window
      .where('received_at', '>=', receivedAt)
      .where((eb) =>
        eb.or([eb('received_at', '>', receivedAt), eb.and([eb('received_at', '=', receivedAt), eb('request_id', '>', requestId)])]),
      );
  }
  const rows = await window.orderBy('received_at').orderBy('request_id').limit(limit).execute();
  const lastRow = rows.at(-1);
  if (!lastRow) return { examined: 0, changed: 0, last: cursor, locked: true };
  const last = { receivedAt: lastRow.received_at, requestId: lastRow.request_id };
  const ids = rows.map((r) => r.request_id);
  let changed: number;
  if (part === 'bodies') {
    // Only final states lose their body, so the worker never claims an event without one. On
    // PostgreSQL the rows are locked until the commit (a replay that runs into them waits; should
    // it still reset one of them, the claim finds no body and fails the event: claim.ts); rows a
    // worker holds right now are passed by (they are not final).
    const eligible = await skipLockedRows(
      trx
        .selectFrom('events')
        .select('request_id')
        .where('request_id', 'in', ids)
        .where('status', 'in', PURGED_BODY_STATUSES)
        .where('processed_at', '<', cutoff),
      db.dialect,
    ).execute();
    changed = 0;
    if (eligible.length > 0) {
      const deleted = await trx
        .deleteFrom('event_bodies')
        .where(
          'request_id',
          'in',
          eligible.map((e) => e.request_id),
        )
        .executeTakeFirst();
      changed = Number(deleted.numDeletedRows);
    }
  } else {
    const updated = await trx
      .updateTable('events')
      .set({ idempotency_key: null })
      .where('request_id', 'in', ids)
      .where('idempotency_key', 'is not', null)
      .executeTakeFirst();
    changed = Number(updated.numUpdatedRows);
  }
  return { examined: rows.length, changed, last, locked: true };
}

/**
 * One run: sweeps bodies, then keys, batch by batch, from where the last run stopped (`state`,
 * updated in place) to the cutoffs. A part whose days are 0 is not swept.
 */
export async function runRetention(options: RetentionRunOptions): Promise<RetentionReport> {
  const { db, config, now } = options;
  const transact = options.transact ?? ownTransaction(db.kysely);
  const state = options.state ?? initialRetentionState();
  const limit = options.batchSize ?? RETENTION_BATCH_SIZE;
  const report: RetentionReport = { bodiesPurged: 0, keysReleased: 0, messagesPurged: 0, batches: 0, skipped: false };
  if (now - state.bodiesRestartedAt >= FULL_SWEEP_MS) {
    state.bodies = null;
    state.bodiesRestartedAt = now;
  }
  const parts: [Part, number][] = [
    ['bodies', config.bodyDays],
    ['keys', config.idempotencyDays],
  ];
  for (const [part, days] of parts) {
    if (days <= 0) continue;
    const cutoff = now - days * DAY_MS;
    for (;;) {
      if (options.stopping?.()) return report;
      const cursor = state[part];
      const started = performance.now();
      const outcome = await transact((trx) => purgeBatch(trx, db, part, cursor, cutoff, limit));
      const tookMs = performance.now() - started;
      if (!outcome.locked) {
        report.skipped = true;
        return report;
      }
      if (outcome.examined === 0) break;
      report.batches++;
      state[part] = outcome.last;
      if (part === 'bodies') report.bodiesPurged += outcome.changed;
      else report.keysReleased += outcome.changed;
      if (outcome.examined < limit) break;
      // Between batches, rest as long as the batch took: the purge takes at most half of the
      // writer's time, and the gate's batches in between carry no purge work.
      await pause(Math.min(tookMs, 1000));
    }
  }
  if (config.bodyDays > 0) {
    const cutoff = now - config.bodyDays * DAY_MS;
    for (;;) {
      if (options.stopping?.()) return report;
      const started = performance.now();
      const purged = await transact(async (trx) =>
        (await tryRetentionLock(trx, db.dialect)) ? purgeDeliveredMessages(trx, cutoff, limit) : undefined,
      );
      if (purged === undefined) {
        report.skipped = true;
        return report;
      }
      if (purged === 0) break;
      report.batches++;
      report.messagesPurged += purged;
      if (purged < limit) break;
      await pause(Math.min(performance.now() - started, 1000));
    }
  }
  return report;
}

export interface RetentionLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface RetentionScheduler {
  /** Ends the timer and waits for a run in progress (it stops after its current batch). */
  stop(): Promise<void>;
}

/**
 * Runs the purge every `config.intervalMs` (the first run one interval after start), one run at
 * a time. Nothing is started when both parts are disabled (0 days).
 */
export function startRetention(options: {
  readonly db: Db;
  readonly config: RetentionConfig;
  readonly log: RetentionLog;
  readonly transact?: Transact;
}): RetentionScheduler {
  const { db, config, log, transact } = options;
  if (config.bodyDays <= 0 && config.idempotencyDays <= 0) return { stop: async () => {} };
  const state = initialRetentionState();
  let stopping = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    timer = setTimeout(tick, config.intervalMs);
    timer.unref();
  };
  const tick = () => {
    running = runRetention({ db, config, now: Date.now(), transact, state, stopping: () => stopping })
      .then((report) => {
        if (report.batches > 0 || report.skipped) {
          const { bodiesPurged, keysReleased, messagesPurged, batches, skipped } = report;
          log.info({ bodiesPurged, keysReleased, messagesPurged, batches, skipped }, 'retention purge');
        }
      })
      .catch((err: unknown) => log.warn({ err }, 'retention purge failed; it will run again'))
      .finally(() => {
        running = undefined;
        if (!stopping) schedule();
      });
  };
  schedule();
  return {
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await running;
    },
  };
}
