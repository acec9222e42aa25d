// /admin/v1/destinations and /admin/v1/messages: where outcomes are delivered, their health, test
// sends, secret rotation, and the outbox's messages with their attempt logs and retries.
import type { FastifyInstance } from 'fastify';
import type { DeliveryConfig } from '../core/config.js';
import type { DestinationInput } from '../delivery/destination.rules.js';
import type { OutboundType } from '../outbox/outbound-types.js';
import { adminErrors } from './admin.schemas.js';
import {
  bulkRetryBodySchema,
  destinationCreateSchema,
  destinationListSchema,
  destinationNameParams,
  destinationReplaceSchema,
  destinationSchema,
  destinationWithFeedTokenSchema,
  destinationWithSecretSchema,
  messageIdParams,
  messageListQuerySchema,
  messageListSchema,
  messageSchema,
  recoverBodySchema,
  retriedSchema,
  rotateSecretBodySchema,
  testSendBodySchema,
  testSendResultSchema,
} from './destinations.schemas.js';
import {
  createDestination,
  getDestinationView,
  listDestinationViews,
  removeDestination,
  replaceDestination,
  rotateDestinationSecret,
  rotateFeedToken,
  setDestinationEnabled,
  testSend,
} from './destinations.service.js';
import { getMessage, listMessages, type MessageFilter, recoverDestination, retryMessage, retryMessages } from './messages.service.js';

const ACTOR = 'admin-api';
const doc = (summary: string, response: Record<number, object>, extra: object = {}) => ({
  config: { envelope: 'plain' as const },
  schema: { tags: ['admin'], security: [{ adminToken: [] }], summary, ...extra, response: { ...response, ...adminErrors } },
});

type Named = { Params: { name: string } };

export default async function destinationRoutes(app: FastifyInstance, opts: { delivery: DeliveryConfig }): Promise<void> {
  const { delivery } = opts;
  app.get('/destinations', doc('Destinations with their health', { 200: destinationListSchema }), async () => listDestinationViews(app.db));

  app.post<{ Body: DestinationInput }>(
    '/destinations',
    doc(
      "Create a destination; the answer shows its secret (and a pull destination's feed token), this once",
      { 201: destinationWithSecretSchema },
      { body: destinationCreateSchema },
    ),
    async (request, reply) => {
      const created = await createDestination(app.db, request.body, delivery, ACTOR);
      reply.code(201).header('location', `${request.url}/${created.name}`);
      return created;
    },
  );

  app.get<Named>(
    '/destinations/:name',
    doc('One destination with its health', { 200: destinationSchema }, { params: destinationNameParams }),
    async (request) => getDestinationView(app.db, request.params.name),
  );

  app.put<Named & { Body: Omit<DestinationInput, 'name' | 'secret'> }>(
    '/destinations/:name',
    doc(
      'Replace a destination (its secret stays: rotate it with rotate-secret)',
      { 200: destinationSchema },
      {
        params: destinationNameParams,
        body: destinationReplaceSchema,
      },
    ),
    async (request) => replaceDestination(app.db, request.params.name, request.body, delivery, ACTOR),
  );

  app.delete<Named>(
    '/destinations/:name',
    doc('Delete a destination and its messages', { 204: { type: 'null' } }, { params: destinationNameParams }),
    async (request, reply) => {
      await removeDestination(app.db, request.params.name, ACTOR);
      reply.code(204);
    },
  );

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post<Named>(
      `/destinations/:name/${action}`,
      doc(
        enabled
          ? 'Enable a destination: its waiting messages are sent, its health starts afresh'
          : 'Disable a destination: its messages wait (new ones too) until it is enabled',
        { 200: destinationSchema },
        { params: destinationNameParams },
      ),
      async (request) => setDestinationEnabled(app.db, request.params.name, enabled, ACTOR),
    );
  }

  app.post<Named & { Body: { secret?: string } | null }>(
    '/destinations/:name/rotate-secret',
    doc(
      'Rotate the signing secret: the new one signs at once, the old one too for DELIVERY_SECRET_OVERLAP_HOURS',
      { 200: destinationWithSecretSchema },
      { params: destinationNameParams, body: rotateSecretBodySchema },
    ),
    async (request) => rotateDestinationSecret(app.db, request.params.name, request.body?.secret, delivery, ACTOR),
  );

  app.post<Named>(
    '/destinations/:name/rotate-feed-token',
    doc(
      'Replace the feed token of a pull destination: the answer shows the new one, this once; the old one stops at once',
      { 200: destinationWithFeedTokenSchema },
      { params: destinationNameParams },
    ),
    async (request) => rotateFeedToken(app.db, request.params.name, ACTOR),
  );

  app.post<Named & { Body: { type?: OutboundType } | null }>(
    '/destinations/:name/test',
    doc(
      'Send one signed test message now (not through the outbox) and answer what came back (a webhook destination only)',
      { 200: testSendResultSchema },
      {
        params: destinationNameParams,
        body: testSendBodySchema,
      },
    ),
    async (request) => testSend(app.db, request.params.name, request.body?.type, delivery),
  );

  app.post<Named & { Body: { since: string } }>(
    '/destinations/:name/recover',
    doc(
      'Send again every FAILED message of this destination created since a time',
      { 200: retriedSchema },
      {
        params: destinationNameParams,
        body: recoverBodySchema,
      },
    ),
    async (request) => recoverDestination(app.db, request.params.name, request.body.since, ACTOR),
  );

  app.get<{ Querystring: MessageFilter & { limit: number; cursor?: string } }>(
    '/messages',
    doc(
      'Outbox messages, newest first, by destination, status, type, dealer, source and time',
      { 200: messageListSchema },
      {
        querystring: messageListQuerySchema,
      },
    ),
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return listMessages(app.db, filter, limit, cursor);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/messages/:id',
    doc(
      'One message: its envelope and every attempt (status, headers, first 16 KB of the answer)',
      { 200: messageSchema },
      {
        params: messageIdParams,
      },
    ),
    async (request) => getMessage(app.db, request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/messages/:id/retry',
    doc('Send a FAILED message again (its schedule starts afresh)', { 200: messageSchema }, { params: messageIdParams }),
    async (request) => retryMessage(app.db, request.params.id, ACTOR),
  );

  app.post<{ Body: { filter: MessageFilter } }>(
    '/messages/retry',
    doc('Send again every FAILED message matching a filter', { 200: retriedSchema }, { body: bulkRetryBodySchema }),
    async (request) => retryMessages(app.db, request.body.filter, ACTOR),
  );
}
