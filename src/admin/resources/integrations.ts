// Integrations: what a subscriber may send as one event type (active, how to find the dealer, the
// JSON Schema and JSONata transform of its bodies). /admin/v1/integrations/:subscriber/:eventType;
// the list shows each with the partner's latest event of that type.
import type { FastifyInstance } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import { AppError } from '../../core/errors.js';
import type { Database, IntegrationsTable } from '../../db/schema.js';
import { EVENT_STATUSES } from '../../eventlog/event.model.js';
import type { IntegrationSpec } from '../../provisioning/provisioning.schema.js';
import { decodeCursor } from '../cursor.js';
import { type Page, type PageRequest, pageOf, pastPair } from '../page.js';
import { iso } from './columns.js';
import { changeOne, createOne, getOne, type Resource } from './resource.js';
import { changes, creates, lists, reads } from './route.js';
import { bool, exactBody, integrationFields, nullableText, patchBody, pathParams, text, timestamp, username } from './schemas.js';

interface Integration {
  readonly subscriber: string;
  readonly eventType: string;
  readonly active: boolean;
  readonly dealerIdField: string;
  readonly dealerMap: Record<string, string>;
  readonly schema: object | boolean | null;
  readonly transform: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The latest event a partner sent for an integration, with its status now. */
interface LastEvent {
  readonly requestId: string;
  readonly receivedAt: string;
  readonly status: string;
  readonly processedAt: string | null;
  readonly errorCodes: string[];
}

interface IntegrationListItem extends Integration {
  /** null: the partner never sent an event of this type (or none is stored any more). */
  readonly lastEvent: LastEvent | null;
}

type IntegrationKey = { subscriber: string; eventType: string };
type IntegrationFields = Partial<Pick<IntegrationSpec, 'active' | 'dealerIdField' | 'dealerMap' | 'schema' | 'transform'>>;

const integrationData = {
  active: integrationFields.active,
  dealerIdField: integrationFields.dealerIdField,
  dealerMap: integrationFields.dealerMap,
  schema: integrationFields.schema,
  transform: integrationFields.transform,
};

const integrationParamsSchema = pathParams({ subscriber: username, eventType: integrationFields.eventType });

const integrationSchema = {
  type: 'object',
  properties: {
    subscriber: text,
    eventType: text,
    active: bool,
    dealerIdField: text,
    dealerMap: { type: 'object', additionalProperties: text },
    schema: { description: 'JSON Schema applied to the raw body, or null' },
    transform: nullableText,
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

const integrationListItemSchema = {
  type: 'object',
  properties: {
    ...integrationSchema.properties,
    lastEvent: {
      type: ['object', 'null'],
      description: "The partner's latest event of this type (by receipt) with its status now; null when it never sent one",
      properties: {
        requestId: text,
        receivedAt: timestamp,
        status: { type: 'string', enum: EVENT_STATUSES },
        processedAt: { ...timestamp, type: ['string', 'null'] },
        errorCodes: { type: 'array', items: text },
      },
    },
  },
} as const;

const toIntegration = (r: Selectable<IntegrationsTable>): Integration => ({
  subscriber: r.username,
  eventType: r.event_type,
  active: r.active === 1,
  dealerIdField: r.dealer_id_field,
  dealerMap: JSON.parse(r.dealer_map) as Record<string, string>,
  schema: r.json_schema === null ? null : (JSON.parse(r.json_schema) as object | boolean),
  transform: r.transform,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const integrations: Resource<IntegrationKey, Selectable<IntegrationsTable>, Integration> = {
  find: (db, { subscriber, eventType }) =>
    db.selectFrom('integrations').selectAll().where('username', '=', subscriber).where('event_type', '=', eventType).executeTakeFirst(),
  toItem: toIntegration,
  notFound: ({ subscriber, eventType }) => new AppError('NOT_FOUND', `Subscriber ${subscriber} has no ${eventType} integration`),
  entryPath: 'integrations[0]',
};

/** The integration's entry: sending it back unchanged changes nothing. */
const integrationEntry = (x: Integration): IntegrationSpec => ({
  subscriber: x.subscriber,
  eventType: x.eventType,
  active: x.active,
  dealerIdField: x.dealerIdField,
  dealerMap: x.dealerMap,
  schema: x.schema,
  transform: x.transform,
});

/** The events `requestIds` name (primary-key reads), by request id. */
async function lastEvents(db: Kysely<Database>, requestIds: string[]): Promise<Map<string, LastEvent>> {
  const events =
    requestIds.length === 0
      ? []
      : await db
          .selectFrom('events')
          .select(['request_id', 'received_at', 'status', 'processed_at', 'errors'])
          .where('request_id', 'in', requestIds)
          .execute();
  return new Map(
    events.map((e): [string, LastEvent] => [
      e.request_id,
      {
        requestId: e.request_id,
        receivedAt: iso(e.received_at),
        status: e.status,
        processedAt: e.processed_at === null ? null : iso(e.processed_at),
        errorCodes: (JSON.parse(e.errors) as { errorCode: string }[]).map((x) => x.errorCode),
      },
    ]),
  );
}

/**
 * By (subscriber, event type), optionally one subscriber's; each with its latest event. That
 * costs one probe per row of the page: a correlated subquery that walks the events_subscriber_idx
 * index (username, received_at) backwards to the first event of the type (with one event type,
 * the first row it reads), then one primary-key read of those events. Counting each
 * integration's events of a day instead would read that day's events of every partner listed.
 */
async function listIntegrations(
  db: Kysely<Database>,
  { query }: { query: PageRequest & { subscriber?: string } },
): Promise<Page<IntegrationListItem>> {
  let q = db
    .selectFrom('integrations as i')
    .selectAll('i')
    .select((eb) =>
      eb
        .selectFrom('events as e')
        .select('e.request_id')
        .whereRef('e.username', '=', 'i.username')
        .whereRef('e.event_type', '=', 'i.event_type')
        .orderBy('e.received_at', 'desc')
        .limit(1)
        .as('last_request_id'),
    );
  if (query.subscriber !== undefined) q = q.where('i.username', '=', query.subscriber);
  if (query.cursor !== undefined) q = q.where(pastPair(['i.username', 'i.event_type'], decodeCursor(query.cursor, 'ss'), '>'));
  const rows = await q
    .orderBy('i.username')
    .orderBy('i.event_type')
    .limit(query.limit + 1)
    .execute();
  const last = await lastEvents(
    db,
    rows.slice(0, query.limit).flatMap((r) => (r.last_request_id ? [r.last_request_id] : [])),
  );
  return pageOf(
    rows,
    query.limit,
    (r) => ({ ...toIntegration(r), lastEvent: last.get(r.last_request_id ?? '') ?? null }),
    (r) => [r.username, r.event_type],
  );
}

/** A new integration (apply compiles its schema and transform first); 409 when the subscriber has one of the type. */
function createIntegration(db: Kysely<Database>, { body }: { body: IntegrationSpec }) {
  const taken = () => `Subscriber ${body.subscriber} already has a ${body.eventType} integration`;
  return createOne(db, integrations, { subscriber: body.subscriber, eventType: body.eventType }, { integrations: [body] }, taken);
}

/** Fields present in the body replace the stored ones (null clears schema or transform). */
function changeIntegration(db: Kysely<Database>, { params, body }: { params: IntegrationKey; body: IntegrationFields }) {
  return changeOne(db, integrations, params, (current) => ({ integrations: [{ ...integrationEntry(current), ...body }] }));
}

export default function integrationRoutes(app: FastifyInstance): void {
  app.get(
    '/integrations',
    lists(listIntegrations, integrationListItemSchema, {
      summary: 'List integrations by subscriber and event type (filter: subscriber)',
      filters: { subscriber: username },
    }),
  );
  app.get(
    '/integrations/:subscriber/:eventType',
    reads((db, { params }: { params: IntegrationKey }) => getOne(db, integrations, params), integrationSchema, {
      summary: 'One integration: active, dealer id field and map, JSON Schema, JSONata transform',
      params: integrationParamsSchema,
    }),
  );
  app.post(
    '/integrations',
    creates(createIntegration, integrationSchema, {
      summary: 'Create an integration (schema and transform are compiled first; 409 if it exists)',
      body: exactBody({ subscriber: username, eventType: integrationFields.eventType, ...integrationData }, ['subscriber', 'eventType']),
    }),
  );
  app.patch(
    '/integrations/:subscriber/:eventType',
    changes(changeIntegration, integrationSchema, {
      summary: 'Change an integration (fields given replace the stored ones; a bad schema or transform is a 400)',
      params: integrationParamsSchema,
      body: patchBody(integrationData),
    }),
  );
}
