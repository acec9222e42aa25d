// Replay: put events back in the queue so the worker processes them again with the
// integration's current configuration (after a dealer mapping is added, a schema fixed, or an
// outage that left events FAILED). Events leased by a live worker are left alone.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { EventStatus } from './event.model.js';

export interface EventFilter {
  readonly requestIds?: readonly string[];
  readonly statuses?: readonly EventStatus[];
  readonly subscriber?: string;
  readonly eventType?: string;
  /** received_at >= since (epoch ms) */
  readonly since?: number;
  /** received_at < until (epoch ms) */
  readonly until?: number;
}

/** Without request ids, a replay is limited to these unless statuses are given. */
export const DEFAULT_REPLAY_STATUSES: readonly EventStatus[] = ['REJECTED', 'FAILED'];

// biome-ignore lint/suspicious/noExplicitAny: applies to any query over the events table
export function whereEvents<Q extends { where: (...args: any[]) => any }>(qb: Q, filter: EventFilter): Q {
  let q = qb;
  if (filter.requestIds && filter.requestIds.length > 0) q = q.where('request_id', 'in', filter.requestIds);
  if (filter.statuses && filter.statuses.length > 0) q = q.where('status', 'in', filter.statuses);
  if (filter.subscriber !== undefined) q = q.where('username', '=', filter.subscriber);
  if (filter.eventType !== undefined) q = q.where('event_type', '=', filter.eventType);
  if (filter.since !== undefined) q = q.where('received_at', '>=', filter.since);
  if (filter.until !== undefined) q = q.where('received_at', '<', filter.until);
  return q;
}

export function replayFilter(filter: EventFilter): EventFilter {
  const byId = filter.requestIds !== undefined && filter.requestIds.length > 0;
  return byId || (filter.statuses && filter.statuses.length > 0) ? filter : { ...filter, statuses: DEFAULT_REPLAY_STATUSES };
}

export interface ReplayReport {
  readonly replayed: number;
}

/** Only events no live worker holds may be replayed. */
// biome-ignore lint/suspicious/noExplicitAny: applies to any query over the events table
const notLeased = (now: number) => (eb: any) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]);

export async function replayEvents(db: Kysely<Database>, filter: EventFilter, now: number = Date.now()): Promise<ReplayReport> {
  const result = await whereEvents(
    db
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
      .where(notLeased(now)),
    replayFilter(filter),
  ).executeTakeFirst();
  return { replayed: Number(result.numUpdatedRows) };
}

/** How many events replayEvents() would replay now (for --dry-run). */
export async function countReplayable(db: Kysely<Database>, filter: EventFilter, now: number = Date.now()): Promise<number> {
  const row = await whereEvents(
    db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(notLeased(now)),
    replayFilter(filter),
  ).executeTakeFirstOrThrow();
  return Number(row.n);
}
