// Operator replay: one event at once, or *every* event matching a filter (not a page), in the background with progress an
// operator can poll. The job walks the matching events in request_id order, 500 at a time, each
// chunk its own short transaction: the gate's writers never wait long behind it, and an event
// that matches again after its replay (rejected again) is not replayed twice by the same job.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import { AppError } from '../core/errors.js';
import type { Database } from '../db/schema.js';
import { type EventFilter, whereEvents } from '../eventlog/event.filter.js';
import { findEvent } from '../eventlog/event.repository.js';
import { countReplayable, type Replayer, replayFilter } from '../pipeline/replay.js';
import { type EventDetail, getEventDetail } from './admin-events.service.js';

const CHUNK = 500;

/**
 * Replays one event (any status) through `replayer` (the app's storage, whose commit wakes the
 * worker). 404 if it does not exist, 409 while a live worker holds it.
 */
export async function replayOne(
  db: Kysely<Database>,
  replayer: Replayer,
  requestId: string,
  actor: string,
  now = Date.now(),
): Promise<EventDetail> {
  const row = await findEvent(db, requestId);
  if (!row) throw new AppError('EVENT_NOT_FOUND', `No event ${requestId}`);
  if (row.raw_body === null) throw new AppError('CONFLICT', `Event ${requestId} cannot be replayed: its body was purged by retention`);
  const { replayed } = await replayer.replayEvents({ requestIds: [requestId] }, now, actor);
  if (replayed === 0) throw new AppError('CONFLICT', `Event ${requestId} is being processed right now; replay it once it is done`);
  await recordAudit(
    db,
    [{ actor, action: 'replay', entity: 'event', key: requestId, before: { status: row.status }, after: { status: 'RECEIVED' } }],
    now,
  );
  return getEventDetail(db, requestId);
}

type ReplayJobStatus = 'RUNNING' | 'DONE' | 'FAILED';

export interface ReplayJob {
  readonly id: string;
  readonly filter: EventFilter;
  readonly actor: string;
  readonly status: ReplayJobStatus;
  /** Events matching when the job started (leased ones excluded). */
  readonly total: number;
  readonly replayed: number;
  readonly error: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

type JobRow = Database['replay_jobs'];

function jobFromRow(row: JobRow): ReplayJob {
  return {
    id: row.id,
    filter: JSON.parse(row.filter) as EventFilter,
    actor: row.actor,
    status: row.status as ReplayJobStatus,
    total: row.total,
    replayed: row.replayed,
    error: row.error,
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
  };
}

export async function findReplayJob(db: Kysely<Database>, id: string): Promise<ReplayJob | undefined> {
  const row = await db.selectFrom('replay_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? jobFromRow(row) : undefined;
}

/** Jobs left RUNNING by a process that stopped: they will not progress any more. */
export async function failInterruptedJobs(db: Kysely<Database>, now = Date.now()): Promise<void> {
  await db
    .updateTable('replay_jobs')
    .set({
      status: 'FAILED',
      error: 'interrupted: the service stopped while the job ran; start it again',
      finished_at: now,
      updated_at: now,
    })
    .where('status', '=', 'RUNNING')
    .execute();
}

/**
 * Creates the job and starts it; resolves with the job as created (RUNNING). `done` resolves
 * when the job has finished (tests and shutdown wait on it). Reads and progress go to `db`, the
 * replays themselves to `replayer` (the app's storage: each chunk's commit wakes the worker).
 */
export async function startReplayJob(
  db: Kysely<Database>,
  replayer: Replayer,
  filter: EventFilter,
  actor: string,
): Promise<{ job: ReplayJob; done: Promise<ReplayJob> }> {
  const now = Date.now();
  const id = randomUUID();
  const total = await countReplayable(db, filter, now);
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('replay_jobs')
      .values({
        id,
        filter: JSON.stringify(filter),
        actor,
        status: 'RUNNING',
        total,
        replayed: 0,
        error: null,
        created_at: now,
        updated_at: now,
        finished_at: null,
      })
      .execute();
    await recordAudit(trx, [{ actor, action: 'replay-matching', entity: 'replay-job', key: id, after: { filter, total } }], now);
  });
  const job = (await findReplayJob(db, id)) as ReplayJob;
  return { job, done: runJob(db, replayer, id, filter, actor) };
}

async function runJob(db: Kysely<Database>, replayer: Replayer, id: string, filter: EventFilter, actor: string): Promise<ReplayJob> {
  const matching = replayFilter(filter);
  let after = '';
  let replayed = 0;
  try {
    for (;;) {
      const chunk = await whereEvents(db.selectFrom('events').select('request_id'), matching, db)
        .where('request_id', '>', after)
        .orderBy('request_id')
        .limit(CHUNK)
        .execute();
      if (chunk.length === 0) break;
      after = (chunk.at(-1) as { request_id: string }).request_id;
      const now = Date.now();
      // The filter again, with the ids: an event that stopped matching meanwhile is left alone.
      const report = await replayer.replayEvents({ ...matching, requestIds: chunk.map((r) => r.request_id) }, now, actor);
      replayed += report.replayed;
      await db.updateTable('replay_jobs').set({ replayed, updated_at: now }).where('id', '=', id).execute();
      // Let requests on this thread run between chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const now = Date.now();
    await db.updateTable('replay_jobs').set({ status: 'DONE', replayed, updated_at: now, finished_at: now }).where('id', '=', id).execute();
  } catch (err) {
    const now = Date.now();
    const message = err instanceof Error ? err.message : String(err);
    await db
      .updateTable('replay_jobs')
      .set({ status: 'FAILED', error: message, updated_at: now, finished_at: now })
      .where('id', '=', id)
      .execute()
      .catch(() => {});
  }
  return (await findReplayJob(db, id)) as ReplayJob;
}
