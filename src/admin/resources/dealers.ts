// Dealers: /admin/v1/dealers, listed by UUID, created and renamed (a dealer holds nothing else
// the API can change). The dealer views and the dealer's customers and vehicles start from here.
import type { FastifyInstance } from 'fastify';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, DealersTable } from '../../db/schema.js';
import { type PageRequest, pageByKey } from '../page.js';
import { iso, likePattern } from './columns.js';
import { changeOne, createOne, getOne, missing, type Resource, rowByUuid } from './resource.js';
import { changes, creates, lists, reads } from './route.js';
import { dealerFields, exactBody, text, timestamp, uuidParamsSchema } from './schemas.js';

export interface Dealer {
  readonly uuid: string;
  readonly name: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const dealerSchema = {
  type: 'object',
  properties: { uuid: text, name: text, createdAt: timestamp, updatedAt: timestamp },
} as const;

const dealerFromRow = (r: Selectable<DealersTable>): Dealer => ({
  uuid: r.uuid,
  name: r.name,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const dealers: Resource<string, Selectable<DealersTable>, Dealer> = {
  find: rowByUuid('dealers'),
  toItem: dealerFromRow,
  notFound: missing('Dealer', 'DEALER_NOT_FOUND'),
  entryPath: 'dealers[0]',
};

/** The dealer, or 404 DEALER_NOT_FOUND. */
export const getDealer = (db: Kysely<Database>, uuid: string): Promise<Dealer> => getOne(db, dealers, uuid);

/** By UUID; `q` is a case-insensitive prefix of the name or the UUID. */
function listDealers(db: Kysely<Database>, { query }: { query: PageRequest & { q?: string } }) {
  let q = db.selectFrom('dealers').selectAll();
  if (query.q !== undefined) {
    const pattern = likePattern(query.q, 'prefix');
    q = q.where(sql<boolean>`(lower(name) LIKE ${pattern} ESCAPE '\\' OR lower(uuid) LIKE ${pattern} ESCAPE '\\')`);
  }
  return pageByKey(q, 'uuid', query, (rows) => rows.map(dealerFromRow));
}

function createDealer(db: Kysely<Database>, { body }: { body: { uuid: string; name: string } }) {
  const doc = { dealers: [{ uuid: body.uuid, name: body.name }] };
  return createOne(db, dealers, body.uuid, doc, () => `Dealer ${body.uuid} already exists`);
}

function renameDealer(db: Kysely<Database>, { params, body }: { params: { uuid: string }; body: { name: string } }) {
  return changeOne(db, dealers, params.uuid, () => ({ dealers: [{ uuid: params.uuid, name: body.name }] }));
}

export default function dealerRoutes(app: FastifyInstance): void {
  app.get(
    '/dealers',
    lists(listDealers, dealerSchema, {
      summary: 'List dealers by UUID (filter: name or UUID prefix)',
      filters: { q: { type: 'string', minLength: 1, maxLength: 255, description: 'Prefix of the name or the UUID (case-insensitive)' } },
    }),
  );
  app.get(
    '/dealers/:uuid',
    reads((db, { params }: { params: { uuid: string } }) => getDealer(db, params.uuid), dealerSchema, {
      summary: 'One dealer',
      params: uuidParamsSchema,
    }),
  );
  app.post(
    '/dealers',
    creates(createDealer, dealerSchema, {
      summary: 'Create a dealer (409 if the UUID exists)',
      body: exactBody({ uuid: dealerFields.uuid, name: dealerFields.name }, ['uuid', 'name']),
    }),
  );
  app.patch(
    '/dealers/:uuid',
    changes(renameDealer, dealerSchema, {
      summary: 'Rename a dealer',
      params: uuidParamsSchema,
      body: exactBody({ name: dealerFields.name }, ['name']),
    }),
  );
}
