// GET /admin/v1/stats: the operator console's overview in one call. Events received in the last
// 24 hours per clock hour and per (current) status, the backlog and the age of the oldest event
// still waiting, the rejections that happened in the window (from the events' timelines, so an
// event rejected and then replayed still counts) with the most frequent codes per subscriber,
// and leads saved per hour. Four aggregate queries: the event ones ride the (received_at) and
// (status, …) indexes, the rejections one a range of the timeline's partial index on `at` of
// REJECTED outcomes (migration 0007); the leads one scans the leads table (a dealership's leads,
// not an event log).
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { readBacklog } from '../eventlog/backlog.js';
import { EVENT_STATUSES, type EventStatus } from '../eventlog/event.model.js';
import { adminErrors } from './admin.schemas.js';

const HOUR_MS = 3_600_000;
const HOURS = 24;
const TOP_REJECTIONS = 10;

type StatusCounts = Record<EventStatus, number>;

interface HourStats {
  readonly start: string;
  readonly received: number;
  readonly statuses: StatusCounts;
  readonly leadsSaved: number;
}

export interface Stats {
  readonly generatedAt: string;
  readonly since: string;
  readonly hours: HourStats[];
  readonly totals: {
    readonly received: number;
    readonly statuses: StatusCounts;
    readonly leadsSaved: number;
    readonly rejections: number;
  };
  readonly backlog: { readonly events: number; readonly oldestReceivedAt: string | null; readonly oldestAgeSeconds: number | null };
  readonly topRejections: { readonly subscriber: string; readonly errorCode: string; readonly count: number }[];
}

const zeroStatuses = (): StatusCounts => Object.fromEntries(EVENT_STATUSES.map((s) => [s, 0])) as StatusCounts;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The REJECTED outcomes recorded in the window — first attempts, retries and replays alike —
 * in total and per subscriber and error code, most frequent first. Counting what happened, not
 * the events' status now: an event rejected and then fixed by a replay is PROCESSED today, but
 * it was rejected. The timeline entry names the error codes (`cause`, comma-separated).
 */
async function rejections(db: Kysely<Database>, since: number): Promise<{ total: number; top: Stats['topRejections'] }> {
  const rows = await db
    .selectFrom('event_attempts as a')
    .innerJoin('events as e', 'e.request_id', 'a.request_id')
    .select(['e.username', 'a.cause', (eb) => eb.fn.countAll().as('n')])
    // The partial index's WHERE (migration 0007), written as a literal: a PostgreSQL generic
    // plan cannot use the index for `outcome = $1`, and SQLite would re-prepare at every bind.
    .where('a.outcome', '=', sql.lit('REJECTED'))
    .where('a.at', '>=', since)
    .groupBy(['e.username', 'a.cause'])
    .execute();
  let total = 0;
  const counts = new Map<string, { subscriber: string; errorCode: string; count: number }>();
  for (const row of rows) {
    const n = Number(row.n);
    total += n;
    for (const errorCode of new Set((row.cause ?? '').split(',').map((c) => c.trim()))) {
      if (errorCode === '') continue;
      const key = JSON.stringify([row.username, errorCode]);
      const entry = counts.get(key) ?? { subscriber: row.username, errorCode, count: 0 };
      entry.count += n;
      counts.set(key, entry);
    }
  }
  const top = [...counts.values()]
    .sort((a, b) => b.count - a.count || a.subscriber.localeCompare(b.subscriber) || a.errorCode.localeCompare(b.errorCode))
    .slice(0, TOP_REJECTIONS);
  return { total, top };
}

export async function readStats(db: Kysely<Database>, now = Date.now()): Promise<Stats> {
  const firstHour = Math.floor(now / HOUR_MS) - (HOURS - 1);
  const since = firstHour * HOUR_MS;
  const hourOf = sql<number>`received_at / ${sql.lit(HOUR_MS)}`;
  const [events, leads, backlog, rejected] = await Promise.all([
    db
      .selectFrom('events')
      .select(['status', hourOf.as('hour'), (eb) => eb.fn.countAll().as('n')])
      .where('received_at', '>=', since)
      .groupBy(['status', hourOf])
      .execute(),
    db
      .selectFrom('leads')
      .select([sql<number>`updated_at / ${sql.lit(HOUR_MS)}`.as('hour'), (eb) => eb.fn.countAll().as('n')])
      .where('updated_at', '>=', since)
      .groupBy(sql`updated_at / ${sql.lit(HOUR_MS)}`)
      .execute(),
    readBacklog(db),
    rejections(db, since),
  ]);

  const hours = Array.from({ length: HOURS }, (_, i) => ({
    start: iso((firstHour + i) * HOUR_MS),
    received: 0,
    statuses: zeroStatuses(),
    leadsSaved: 0,
  }));
  const totals = { received: 0, statuses: zeroStatuses(), leadsSaved: 0, rejections: rejected.total };
  for (const row of events) {
    const hour = hours[Number(row.hour) - firstHour];
    const status = row.status as EventStatus;
    const n = Number(row.n);
    if (hour === undefined || !(status in totals.statuses)) continue;
    hour.statuses[status] += n;
    hour.received += n;
    totals.statuses[status] += n;
    totals.received += n;
  }
  for (const row of leads) {
    const hour = hours[Number(row.hour) - firstHour];
    if (hour === undefined) continue;
    hour.leadsSaved += Number(row.n);
    totals.leadsSaved += Number(row.n);
  }
  const oldest = backlog.oldestReceivedAt;
  return {
    generatedAt: iso(now),
    since: iso(since),
    hours,
    totals,
    backlog: {
      events: backlog.events,
      oldestReceivedAt: oldest === null ? null : iso(oldest),
      oldestAgeSeconds: oldest === null ? null : Math.max(0, Math.round((now - oldest) / 1000)),
    },
    topRejections: rejected.top,
  };
}

const count = { type: 'integer' } as const;
const statusCountsSchema = {
  type: 'object',
  properties: Object.fromEntries(EVENT_STATUSES.map((s) => [s, count])),
} as const;

const statsSchema = {
  type: 'object',
  properties: {
    generatedAt: { type: 'string', format: 'date-time' },
    since: { type: 'string', format: 'date-time', description: 'Start of the first hour (24 clock hours, the last one running)' },
    hours: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          start: { type: 'string', format: 'date-time' },
          received: { ...count, description: 'Events received in the hour' },
          statuses: { ...statusCountsSchema, description: 'Those events by their status now' },
          leadsSaved: { ...count, description: 'Leads whose latest save fell in the hour' },
        },
      },
    },
    totals: {
      type: 'object',
      properties: {
        received: count,
        statuses: statusCountsSchema,
        leadsSaved: count,
        rejections: {
          ...count,
          description:
            'REJECTED outcomes recorded in the window (first attempts, retries, replays), whatever the status of their events now',
        },
      },
    },
    backlog: {
      type: 'object',
      properties: {
        events: { ...count, description: 'Events in RECEIVED: waiting, being processed, or waiting to retry' },
        oldestReceivedAt: { type: ['string', 'null'], format: 'date-time' },
        oldestAgeSeconds: { type: ['integer', 'null'] },
      },
    },
    topRejections: {
      type: 'array',
      description: 'The most frequent error codes of the rejections in the window, per subscriber (at most 10)',
      items: {
        type: 'object',
        properties: {
          subscriber: { type: 'string' },
          errorCode: { type: 'string' },
          count: { ...count, description: 'Rejections in the window that named the code (an event rejected twice counts twice)' },
        },
      },
    },
  },
} as const;

export default async function statsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/stats',
    {
      schema: {
        tags: ['admin'],
        security: [{ adminToken: [] }],
        summary: 'The last 24 hours: events per hour and status, backlog, rejections and their top codes, leads saved per hour',
        response: { 200: statsSchema, ...adminErrors },
      },
    },
    async () => readStats(app.db),
  );
}
