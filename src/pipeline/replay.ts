// Replay: put events back in the queue so the worker processes them again with the
// integration's current configuration (after a dealer mapping is added, a schema fixed, or an
// outage that left events FAILED). Events leased by a live worker are left alone. Replayed
// events wake workers as stored ones do: NOTIFY in the replaying transaction (PostgreSQL: other
// processes), and — for the service's replays, which go through its storage (src/storage/) — the
// commit wakes the in-process worker.
import type { Kysely } from 'kysely';
import { inChunks } from '../db/chunks.js';
import { dialectOfKysely, notifyEventsStored } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { type EventFilter, whereEvents } from '../eventlog/event.filter.js';
import type { EventStatus } from '../eventlog/event.model.js';

/** Without request ids, a replay is limited to these unless statuses are given. */
const DEFAULT_REPLAY_STATUSES: readonly EventStatus[] = ['REJECTED', 'FAILED'];

export function replayFilter(filter: EventFilter): EventFilter {
  const byId = filter.requestIds !== undefined && filter.requestIds.length > 0;
  return byId || (filter.statuses && filter.statuses.length > 0) ? filter : { ...filter, statuses: DEFAULT_REPLAY_STATUSES };
}

export interface ReplayReport {
  readonly replayed: number;
  /** Matching events left alone because retention purged their body (nothing to process). */
  readonly skippedPurged: number;
}

/** Only events no live worker holds may be replayed. */
// biome-ignore lint/suspicious/noExplicitAny: applies to any query over the events table
const notLeased = (now: number) => (eb: any) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]);

/** Only events that still have their body may be replayed (src/pipeline/retention.ts). */
// biome-ignore lint/suspicious/noExplicitAny: applies to any query over the events table
const hasBody = (eb: any) =>
  eb.exists(eb.selectFrom('event_bodies').select('request_id').whereRef('event_bodies.request_id', '=', 'events.request_id'));
// biome-ignore lint/suspicious/noExplicitAny: applies to any query over the events table
const bodyPurged = (eb: any) => eb.not(hasBody(eb));

/** Where a replay's writes go: the app's storage (src/storage/storage.ts), whose commit wakes its worker. */
export interface Replayer {
  replayEvents(filter: EventFilter, now: number, actor: string): Promise<ReplayReport>;
}

/**
 * Replays the events matching `filter` that no live worker holds, and writes a REPLAYED entry in
 * each one's timeline (who asked: `actor`), in one transaction of its own (the CLI, tests).
 */
export async function replayEvents(
  db: Kysely<Database>,
  filter: EventFilter,
  now: number = Date.now(),
  actor = 'cli',
): Promise<ReplayReport> {
  return db.transaction().execute((trx) => replayEventsIn(trx, filter, now, actor));
}

/**
 * replayEvents inside the caller's transaction `trx` (the group commit's batch). When it replays
 * something, other processes' workers are notified, as for stored events, once `trx` commits.
 */
export async function replayEventsIn(trx: Kysely<Database>, filter: EventFilter, now: number, actor: string): Promise<ReplayReport> {
  const replayed = await whereEvents(
    trx
      .updateTable('events')
      .set({
        status: 'RECEIVED',
        attempts: 0,
        run_after: now,
        errors: '[]',
        warnings: '[]',
        last_error: null,
        processed_at: null,
        locked_by: null,
        locked_until: null,
        updated_at: now,
      })
      .where(notLeased(now))
      .where(hasBody),
    replayFilter(filter),
    trx,
  )
    .returning('request_id')
    .execute();
  const purged = await whereEvents(
    trx
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(notLeased(now))
      .where(bodyPurged),
    replayFilter(filter),
    trx,
  ).executeTakeFirstOrThrow();
  for (const chunk of inChunks(replayed, 1000)) {
    await trx
      .insertInto('event_attempts')
      .values(chunk.map(({ request_id }) => ({ request_id, attempt: 0, worker_id: null, at: now, outcome: 'REPLAYED', cause: actor })))
      .execute();
  }
  if (replayed.length > 0) await notifyEventsStored(trx, dialectOfKysely(trx));
  return { replayed: replayed.length, skippedPurged: Number(purged.n) };
}

/** How many events replayEvents() would replay now (for --dry-run). */
export async function countReplayable(db: Kysely<Database>, filter: EventFilter, now: number = Date.now()): Promise<number> {
  const row = await whereEvents(
    db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(notLeased(now))
      .where(hasBody),
    replayFilter(filter),
    db,
  ).executeTakeFirstOrThrow();
  return Number(row.n);
}
