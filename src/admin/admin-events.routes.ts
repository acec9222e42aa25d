// /admin/v1/events: list (filters, full-text search, cursor pages), detail with timeline,
// replay of one event, and replay of everything matching a filter as a background job.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.js';
import type { EventFilter } from '../eventlog/event.filter.js';
import type { EventStatus } from '../eventlog/event.model.js';
import { adminErrors } from './admin.schemas.js';
import {
  eventDetailSchema,
  eventListSchema,
  jobIdParamsSchema,
  listEventsQuerySchema,
  replayJobSchema,
  replayMatchingBodySchema,
  requestIdParamsSchema,
} from './admin-events.schemas.js';
import { getEventDetail, listEvents } from './admin-events.service.js';
import { failInterruptedJobs, findReplayJob, type ReplayJob, replayOne, startReplayJob } from './replay.service.js';

/** The filter's wire form (query parameters, or the replay body's `filter`). */
interface FilterParams {
  status?: string;
  subscriber?: string;
  eventType?: string;
  dealer?: string;
  errorCode?: string;
  q?: string;
  since?: string;
  until?: string;
}

function toEventFilter(params: FilterParams): EventFilter {
  return {
    statuses: params.status ? (params.status.split(',') as EventStatus[]) : undefined,
    subscriber: params.subscriber,
    eventType: params.eventType,
    dealer: params.dealer,
    errorCode: params.errorCode,
    text: params.q,
    since: params.since === undefined ? undefined : Date.parse(params.since),
    until: params.until === undefined ? undefined : Date.parse(params.until),
  };
}

const ACTOR = 'admin-api';
const errors = adminErrors;
const common = { tags: ['admin'], security: [{ adminToken: [] }] };

export default async function adminEventRoutes(app: FastifyInstance): Promise<void> {
  // Jobs are run by the process that started them; one that stopped left its jobs unfinished.
  await failInterruptedJobs(app.db);
  const running = new Set<Promise<ReplayJob>>();
  app.addHook('onClose', async () => {
    await Promise.allSettled(running);
  });

  app.get<{ Querystring: FilterParams & { limit: number; cursor?: string } }>(
    '/events',
    {
      schema: {
        ...common,
        summary: 'List events, newest first: filters, full-text search over raw bodies, cursor pages',
        querystring: listEventsQuerySchema,
        response: { 200: eventListSchema, ...errors },
      },
    },
    async (request) => listEvents(app.db, toEventFilter(request.query), request.query.limit, request.query.cursor),
  );

  app.get<{ Params: { requestId: string } }>(
    '/events/:requestId',
    {
      schema: {
        ...common,
        summary: 'One event: raw body, canonical record, errors, warnings and its timeline of attempts',
        params: requestIdParamsSchema,
        response: { 200: eventDetailSchema, ...errors },
      },
    },
    async (request) => getEventDetail(app.db, request.params.requestId),
  );

  app.post<{ Params: { requestId: string } }>(
    '/events/:requestId/replay',
    {
      schema: {
        ...common,
        summary: 'Replay one event (any status) with the current integration configuration',
        params: requestIdParamsSchema,
        response: { 200: eventDetailSchema, ...errors },
      },
    },
    async (request) => replayOne(app.db, app.storage, request.params.requestId, ACTOR),
  );

  app.post<{ Body: { filter: FilterParams } }>(
    '/replays',
    {
      schema: {
        ...common,
        summary: 'Replay every event matching a filter (not a page), in the background',
        description: 'Without `status` in the filter, REJECTED and FAILED events are replayed. Poll the job for progress.',
        body: replayMatchingBodySchema,
        response: { 202: replayJobSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { job, done } = await startReplayJob(app.db, app.storage, toEventFilter(request.body.filter), ACTOR);
      running.add(done);
      done.finally(() => running.delete(done)).catch(() => {});
      reply.code(202).header('location', `${request.url.replace(/\/replays$/, '')}/replays/${job.id}`);
      return job;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/replays/:id',
    {
      schema: { ...common, summary: 'Progress of a replay job', params: jobIdParamsSchema, response: { 200: replayJobSchema, ...errors } },
    },
    async (request) => {
      const job = await findReplayJob(app.db, request.params.id);
      if (!job) throw new AppError('NOT_FOUND', `No replay job ${request.params.id}`);
      return job;
    },
  );
}
