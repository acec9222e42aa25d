// The vehicle service chat summary gate, its dry run and the event status endpoint.
// The gate reads the body as raw bytes (any content type): it must store exactly what was sent.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalOf } from '../auth/auth.plugin.js';
import { VEHICLE_SERVICE_CHAT } from '../eventlog/event-types.js';
import { recommendedEventBody } from '../pipeline/canonical.js';
import { dryRunAtGate } from './dry-run.js';
import { eventStatusParamsSchema, eventStatusResponseSchema, eventsEnvelopeSchema, gateBodyDescription } from './event.schemas.js';
import { assertEventSource, getEventStatus, ingestEvent } from './event.service.js';

export interface EventRoutesOptions {
  /** Called after an event is durably stored, so an in-process worker can start at once. */
  readonly onStored?: () => void;
}

const BASE = '/service-pre-diag/third-party-events/vehicle-service-chat/v1';

/** The events envelope plus what the pipeline would make of the event; nothing is stored. */
const dryRunResponseSchema = {
  type: 'object',
  properties: {
    errors: eventsEnvelopeSchema.properties.errors,
    warnings: eventsEnvelopeSchema.properties.warnings,
    requestId: { ...eventsEnvelopeSchema.properties.requestId, description: 'Always null: a dry run stores nothing' },
    dryRun: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['PROCESSED', 'REJECTED'] },
        dealerUuid: { type: ['string', 'null'], description: 'Our dealer UUID, when the dealer was resolved' },
        canonical: { ...eventStatusResponseSchema.properties.event, description: 'The canonical chat summary when PROCESSED, else null' },
        errors: eventStatusResponseSchema.properties.errors,
        warnings: eventStatusResponseSchema.properties.warnings,
      },
    },
  },
} as const;

export default async function eventRoutes(app: FastifyInstance, opts: EventRoutesOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  // The contract's order: authenticate, then the event source — both before the body is read,
  // so a caller that is not a partner cannot make the service read (or size-check) anything.
  const eventSource = async (request: FastifyRequest) => {
    assertEventSource(app.directory, principalOf(request), VEHICLE_SERVICE_CHAT);
    // The gate stores bytes whatever their declared type, so the header must not be able to
    // refuse a body: an empty, blank or list-valued Content-Type would otherwise be a 415.
    if (request.headers['content-type'] !== undefined) request.headers['content-type'] = 'application/octet-stream';
  };

  app.post<{ Body: Buffer; Headers: { 'idempotency-key'?: string } }>(
    BASE,
    {
      config: { envelope: 'events', documentedBody: recommendedEventBody },
      onRequest: [app.authenticate, eventSource],
      schema: {
        tags: ['events'],
        summary: 'Send a vehicle service chat summary event (asynchronous)',
        description: `${gateBodyDescription} Answers 200 once the raw event is durably stored; processing happens afterwards (see the status endpoint).`,
        security: [{ basicAuth: [] }],
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': { type: 'string', description: 'Same key + same body from the same subscriber → the original requestId' },
          },
        },
        response: { 200: eventsEnvelopeSchema, '4xx': eventsEnvelopeSchema, '5xx': eventsEnvelopeSchema },
      },
    },
    async (request) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const result = await ingestEvent(app.storage, app.directory, request.log, {
        principal: principalOf(request),
        eventType: VEHICLE_SERVICE_CHAT,
        body,
        idempotencyKey: request.headers['idempotency-key'],
      });
      request.outcome = { requestId: result.requestId, replayed: result.replayed };
      if (!result.replayed) opts.onStored?.();
      return { errors: [], warnings: [], requestId: result.requestId };
    },
  );

  // The gate's checks and refusals for the same bytes, then the pipeline run at once; stores nothing.
  // Beside GET `:requestId` (another method), so the two never meet: requestIds are UUIDs.
  app.post<{ Body: Buffer }>(
    `${BASE}/dry-run`,
    {
      config: { envelope: 'events', documentedBody: recommendedEventBody },
      onRequest: [app.authenticate, eventSource],
      schema: {
        tags: ['events'],
        summary: 'Dry-run a vehicle service chat summary event: what the pipeline would make of it, nothing stored',
        description: `${gateBodyDescription} Refused exactly as the gate would refuse it (401, 403, 400, 413); otherwise runs the partner's current integration at once and answers 200 with the outcome the event would get (PROCESSED or REJECTED, the canonical record, errors, warnings). Stores nothing; Idempotency-Key is ignored.`,
        security: [{ basicAuth: [] }],
        response: { 200: dryRunResponseSchema, '4xx': eventsEnvelopeSchema, '5xx': eventsEnvelopeSchema },
      },
    },
    async (request) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const dryRun = await dryRunAtGate(app.db, app.directory, principalOf(request), VEHICLE_SERVICE_CHAT, body);
      request.outcome = { dryRun: dryRun.status, dealerUuid: dryRun.dealerUuid };
      return { errors: [], warnings: [], requestId: null, dryRun };
    },
  );

  app.get<{ Params: { requestId: string } }>(
    `${BASE}/:requestId`,
    {
      config: { envelope: 'events' },
      onRequest: app.authenticate,
      schema: {
        tags: ['events'],
        summary: 'What became of an event: status, errors, warnings and the canonical record',
        security: [{ basicAuth: [] }],
        params: eventStatusParamsSchema,
        response: { 200: eventStatusResponseSchema, '4xx': eventsEnvelopeSchema, '5xx': eventsEnvelopeSchema },
      },
    },
    async (request) => {
      const { event, record } = await getEventStatus(app.db, principalOf(request), request.params.requestId);
      return {
        requestId: event.requestId,
        status: event.status,
        receivedAt: new Date(event.receivedAt).toISOString(),
        processedAt: event.processedAt === null ? null : new Date(event.processedAt).toISOString(),
        errors: event.errors,
        warnings: event.warnings,
        event: record,
      };
    },
  );
}
