// The sender's reads and writes: claiming due messages under a lease, and recording what became
// of each attempt (the attempt log, the message's next state, the destination's health). Like the
// event queue (src/pipeline/claim.ts): SKIP LOCKED claims on PostgreSQL, so several processes
// share the deliveries; on SQLite the one writer claims (inside the group commit in the service).
import { type Kysely, sql } from 'kysely';
import { inChunks } from '../db/chunks.js';
import type { Dialect } from '../db/connect.js';
import { dialectOfKysely, skipLockedRows } from '../db/dialect.js';
import type { Database, DestinationRow, OutboxMessageRow } from '../db/schema.js';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, nextAttemptDelayMs } from './retry-schedule.js';

/** Consecutive failures that open a destination's breaker (docs/operations.md, "Delivery"). */
export const BREAKER_THRESHOLD = 10;
/** While open, one probe after 30 s, then doubling up to 30 min. */
const PROBE_FIRST_MS = 30_000;
const PROBE_MAX_MS = 30 * 60_000;

export interface ClaimOptions {
  readonly workerId: string;
  readonly now: number;
  readonly limit: number;
  readonly leaseMs: number;
  /** Messages this process already has in flight, per destination (the per-destination bound). */
  readonly inFlight: ReadonlyMap<string, number>;
  readonly perDestination: number;
}

export interface Claimed {
  readonly message: OutboxMessageRow;
  readonly destination: DestinationRow;
}

const halfOpen = (d: DestinationRow) => d.failure_streak >= BREAKER_THRESHOLD;

export type DestinationState = 'healthy' | 'failing' | 'breaker-open' | 'disabled';

/** A destination's health as operators see it (admin API, console, metrics). */
export function destinationState(d: DestinationRow, now: number): DestinationState {
  if (d.enabled === 0) return 'disabled';
  if (halfOpen(d) && d.breaker_open_until !== null && d.breaker_open_until > now) return 'breaker-open';
  return d.failure_streak > 0 ? 'failing' : 'healthy';
}

/**
 * Leases up to `limit` due messages. A candidate is PENDING, due, not leased by a live sender,
 * of an enabled destination whose breaker is not open, and — for `per-dealer` destinations — the
 * oldest waiting message of its dealer (head of line: the later ones wait for it, retries
 * included). A half-open destination gets one message (its probe); every destination at most
 * `perDestination` in flight here. Claiming counts the attempt.
 */
export async function claimMessages(trx: Kysely<Database>, dialect: Dialect, options: ClaimOptions): Promise<Claimed[]> {
  const { now, limit } = options;
  // The destinations first (a small table), then the messages alone: a query over the messages
  // table only lets both planners walk the partial index outbox_waiting in claim order and stop
  // at the limit. Joined to destinations, PostgreSQL without fresh statistics read every waiting
  // message of the destination and sorted them: 15 ms per claim at 20 000 waiting, 0.2 ms now.
  const destinations = new Map((await trx.selectFrom('destinations').selectAll().execute()).map((d) => [d.name, d]));
  const excluded: string[] = [];
  const perDealer: string[] = [];
  for (const d of destinations.values()) {
    // Disabled, breaker open, every place here taken (a slow destination with a big backlog must
    // not fill the window and hold the others back), or a pull feed (read, never sent).
    const open = d.breaker_open_until !== null && d.breaker_open_until > now;
    const full = (options.inFlight.get(d.name) ?? 0) >= options.perDestination;
    if (d.enabled !== 1 || open || full || d.kind === 'pull') excluded.push(d.name);
    else if (d.ordering === 'per-dealer') perDealer.push(d.name);
  }
  if (excluded.length === destinations.size) return [];
  let query = trx
    .selectFrom('outbox_messages as m')
    .select(['m.seq', 'm.destination'])
    // Literals, not parameters: only then may the planners use the partial indexes
    // (WHERE status = 'PENDING'); with a bound value SQLite scans and sorts every message.
    .where('m.status', '=', sql.lit('PENDING'))
    .where('m.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('m.locked_until', 'is', null), eb('m.locked_until', '<', now)]));
  if (excluded.length > 0) query = query.where('m.destination', 'not in', excluded);
  if (perDealer.length > 0) {
    query = query.where((eb) =>
      eb.or([
        eb('m.destination', 'not in', perDealer),
        eb.not(
          eb.exists(
            eb
              .selectFrom('outbox_messages as e')
              .select(sql.lit(1).as('one'))
              .whereRef('e.destination', '=', 'm.destination')
              .whereRef('e.ordering_key', '=', 'm.ordering_key')
              .where('e.status', '=', sql.lit('PENDING'))
              .whereRef('e.seq', '<', 'm.seq'),
          ),
        ),
      ]),
    );
  }
  const candidates = await skipLockedRows(
    query
      .orderBy('m.next_attempt_at')
      .orderBy('m.seq')
      .limit(limit * 4),
    dialect,
  ).execute();
  if (candidates.length === 0) return [];
  const taken = new Map<string, number>();
  const chosen: number[] = [];
  for (const { seq, destination: name } of candidates) {
    const destination = destinations.get(name);
    if (!destination || chosen.length >= limit) continue;
    const count = (taken.get(name) ?? 0) + (options.inFlight.get(name) ?? 0);
    const room = halfOpen(destination) ? 1 : options.perDestination;
    if (count >= room) continue;
    taken.set(name, (taken.get(name) ?? 0) + 1);
    chosen.push(seq);
  }
  if (chosen.length === 0) return [];
  const leased = await trx
    .updateTable('outbox_messages')
    .set({ locked_by: options.workerId, locked_until: now + options.leaseMs, attempts: sql<number>`attempts + 1` })
    .where('seq', 'in', chosen)
    // Checked again in the statement that leases: the destinations were read in an earlier
    // statement, and a sender recording a 410 (or a breaker opening) may have committed since,
    // releasing its message and disabling the destination at once (PostgreSQL, read committed).
    .where('status', '=', sql.lit('PENDING'))
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .where((eb) =>
      eb(
        'destination',
        'in',
        eb
          .selectFrom('destinations')
          .select('name')
          .where('enabled', '=', 1)
          .where('kind', '!=', 'pull')
          .where((d) => d.or([d('breaker_open_until', 'is', null), d('breaker_open_until', '<=', now)])),
      ),
    )
    .returningAll()
    .execute();
  return leased
    .sort((a, b) => a.seq - b.seq)
    .map((message) => ({ message, destination: destinations.get(message.destination) as DestinationRow }));
}

/** What one attempt came to (src/delivery/sender.ts decides the verdict). */
export interface AttemptRecord {
  readonly message: OutboxMessageRow;
  readonly at: number;
  readonly durationMs: number;
  readonly statusCode: number | null;
  readonly responseHeaders: Readonly<Record<string, string>> | null;
  readonly responseBody: string | null;
  readonly error: string | null;
  /**
   * delivered: 2xx (SMTP: the server took it); gone: 410 (the destination is disabled);
   * rejected: refused for good (SMTP 5xx on the recipients): a dead letter at once, no retry;
   * failed: anything else (retried on the schedule).
   */
  readonly verdict: 'delivered' | 'failed' | 'gone' | 'rejected';
  /** From a 429's or 503's Retry-After: the next attempt waits at least this long. */
  readonly retryAfterMs?: number;
}

/** What an attempt led to: delivered, another attempt scheduled, a dead letter, or held (410: its destination disabled). */
type AttemptOutcome = 'delivered' | 'retry' | 'dead' | 'held';

/** An attempt as recorded, for the sender's counters. */
export interface RecordedAttempt {
  readonly record: AttemptRecord;
  readonly outcome: AttemptOutcome;
}

/** A destination's health changed: logged once and counted by the caller. */
export interface HealthChange {
  readonly destination: string;
  readonly change: 'breaker-opened' | 'breaker-closed' | 'disabled';
  readonly reason: string;
}

const schedule = (d: DestinationRow): readonly number[] =>
  d.retry_schedule === null ? DEFAULT_RETRY_SCHEDULE_SECONDS : (JSON.parse(d.retry_schedule) as number[]);

/**
 * Writes a set of finished attempts in the caller's transaction: the attempt log, each message's
 * next state (only where this sender still holds its lease), and each destination's health.
 */
export async function recordAttempts(
  trx: Kysely<Database>,
  finished: readonly AttemptRecord[],
  workerId: string,
  options: { readonly now: number; readonly disableAfterMs: number; readonly random?: () => number },
): Promise<{ readonly recorded: RecordedAttempt[]; readonly changes: HealthChange[] }> {
  if (finished.length === 0) return { recorded: [], changes: [] };
  const { now } = options;
  const names = [...new Set(finished.map((r) => r.message.destination))];
  // Locked (PostgreSQL), in name order: two senders recording for one destination take turns, so
  // neither overwrites the other's health counts; a concurrent DELETE of the destination either
  // waits for this transaction or has finished, and then its row is simply not here.
  const read = trx.selectFrom('destinations').selectAll().where('name', 'in', names).orderBy('name');
  const destinations = new Map((await (dialectOfKysely(trx) === 'postgres' ? read.forUpdate() : read).execute()).map((d) => [d.name, d]));
  // A destination deleted since the claim took its messages and their attempts with it (ON
  // DELETE CASCADE): nothing is left to record, and inserting their attempts would fail the batch.
  const records = finished.filter((r) => destinations.has(r.message.destination));
  if (records.length === 0) return { recorded: [], changes: [] };
  await trx
    .insertInto('delivery_attempts')
    .values(
      records.map((r) => ({
        message_id: r.message.id,
        attempt: r.message.attempts,
        at: r.at,
        duration_ms: Math.round(r.durationMs),
        status_code: r.statusCode,
        response_headers: r.responseHeaders === null ? null : JSON.stringify(r.responseHeaders),
        response_body: r.responseBody,
        error: r.error,
      })),
    )
    .execute();
  const recorded: RecordedAttempt[] = [];
  // Delivered ones (nearly all of them) in one statement; the others each with their own next state.
  const delivered: string[] = [];
  for (const r of records) {
    const destination = destinations.get(r.message.destination);
    const next = nextState(r, destination, now, options.random);
    recorded.push({
      record: r,
      outcome: next.status === 'DELIVERED' ? 'delivered' : next.status === 'FAILED' ? 'dead' : r.verdict === 'gone' ? 'held' : 'retry',
    });
    if (next.status === 'DELIVERED') {
      delivered.push(r.message.id);
      continue;
    }
    await trx
      .updateTable('outbox_messages')
      .set({ ...next, locked_by: null, locked_until: null })
      .where('id', '=', r.message.id)
      .where('locked_by', '=', workerId)
      .execute();
  }
  for (const chunk of inChunks(delivered)) {
    await trx
      .updateTable('outbox_messages')
      .set({ status: 'DELIVERED', delivered_at: now, last_error: null, locked_by: null, locked_until: null })
      .where('id', 'in', chunk)
      .where('locked_by', '=', workerId)
      .execute();
  }
  const changes: HealthChange[] = [];
  for (const destination of destinations.values()) {
    const own = records.filter((r) => r.message.destination === destination.name);
    changes.push(...(await updateHealth(trx, destination, own, now, options.disableAfterMs)));
  }
  return { recorded, changes };
}

function nextState(r: AttemptRecord, destination: DestinationRow | undefined, now: number, random?: () => number) {
  const error = r.error ?? (r.statusCode === null ? null : `HTTP ${r.statusCode}`);
  if (r.verdict === 'delivered') return { status: 'DELIVERED', delivered_at: now, last_error: null };
  // 410: the destination is disabled; the message waits (due at once) until it is enabled again.
  if (r.verdict === 'gone' || destination === undefined) return { status: 'PENDING', next_attempt_at: now, last_error: error };
  if (r.verdict === 'rejected') return { status: 'FAILED', last_error: error };
  const delay = nextAttemptDelayMs(schedule(destination), r.message.attempts, random);
  if (delay === undefined) return { status: 'FAILED', last_error: error };
  return { status: 'PENDING', next_attempt_at: now + Math.max(delay, r.retryAfterMs ?? 0), last_error: error };
}

async function updateHealth(
  trx: Kysely<Database>,
  d: DestinationRow,
  records: readonly AttemptRecord[],
  now: number,
  disableAfterMs: number,
): Promise<HealthChange[]> {
  const changes: HealthChange[] = [];
  // The streak after these attempts, in the order they finished: a success resets it. From the
  // threshold on only probes count (attempts started once the breaker's wait was over), so each
  // failed probe doubles the wait and the attempts still in flight when it opened do not: they
  // made the first wait 30 min instead of 30 s.
  const probesFrom = d.failure_streak >= BREAKER_THRESHOLD ? d.breaker_open_until : null;
  let streak = d.failure_streak;
  let counted = false;
  let failingSince = d.failing_since;
  let lastSuccess = d.last_success_at;
  let lastFailure = d.last_failure_at;
  let gone: AttemptRecord | undefined;
  for (const r of [...records].sort((a, b) => a.at + a.durationMs - (b.at + b.durationMs))) {
    if (r.verdict === 'delivered') {
      streak = 0;
      counted = true;
      failingSince = null;
      lastSuccess = now;
    } else {
      if (streak < BREAKER_THRESHOLD || (probesFrom !== null && r.at >= probesFrom)) {
        streak++;
        counted = true;
      }
      failingSince ??= r.at;
      lastFailure = now;
      if (r.verdict === 'gone') gone = r;
    }
  }
  const wasOpen = d.failure_streak >= BREAKER_THRESHOLD;
  const open = streak >= BREAKER_THRESHOLD;
  const probeMs = Math.min(PROBE_MAX_MS, PROBE_FIRST_MS * 2 ** Math.max(0, streak - BREAKER_THRESHOLD));
  let enabled = d.enabled;
  let reason = d.disabled_reason;
  if (open && !wasOpen) changes.push({ destination: d.name, change: 'breaker-opened', reason: `${streak} consecutive failures` });
  if (wasOpen && !open) changes.push({ destination: d.name, change: 'breaker-closed', reason: 'an attempt succeeded' });
  if (d.enabled === 1 && gone) {
    enabled = 0;
    reason = `the destination answered 410 Gone at ${new Date(gone.at).toISOString()}`;
    changes.push({ destination: d.name, change: 'disabled', reason });
  } else if (d.enabled === 1 && failingSince !== null && now - failingSince >= disableAfterMs) {
    enabled = 0;
    reason = `failing continuously since ${new Date(failingSince).toISOString()}`;
    changes.push({ destination: d.name, change: 'disabled', reason });
  }
  await trx
    .updateTable('destinations')
    .set({
      failure_streak: streak,
      failing_since: failingSince,
      last_success_at: lastSuccess,
      last_failure_at: lastFailure,
      // Only stragglers came back: the probe stays when it was due.
      breaker_open_until: open ? (counted ? now + probeMs : d.breaker_open_until) : null,
      enabled,
      disabled_reason: reason,
    })
    .where('name', '=', d.name)
    .execute();
  return changes;
}

/** One lease a sender took: the message, and the lease's end as its claim set it. */
export interface Lease {
  readonly id: string;
  readonly lockedUntil: number;
}

/**
 * Gives back leases taken but never sent on (they ran too short): the attempt is not counted.
 * Only the very lease taken: if it had expired and a claim (this sender's too) leased the
 * message again, that newer lease is left alone.
 */
export async function releaseLeases(trx: Kysely<Database>, workerId: string, leases: readonly Lease[]): Promise<void> {
  for (const lease of leases) {
    await trx
      .updateTable('outbox_messages')
      .set({ locked_by: null, locked_until: null, attempts: sql<number>`attempts - 1` })
      .where('id', '=', lease.id)
      .where('locked_by', '=', workerId)
      .where('locked_until', '=', lease.lockedUntil)
      .where('status', '=', 'PENDING')
      .execute();
  }
}

/** Gives back leases this sender will not finish (it is stopping): the attempt is not counted. */
export async function releaseMessages(db: Kysely<Database>, workerId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('outbox_messages')
    .set({ locked_by: null, locked_until: null, attempts: sql<number>`attempts - 1` })
    .where('id', 'in', ids)
    .where('locked_by', '=', workerId)
    .execute();
}
