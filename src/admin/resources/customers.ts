// Customers: created under their dealer (/admin/v1/dealers/:dealerUuid/customers) and changed by
// UUID (/admin/v1/customers/:uuid); a UUID is unique across dealers.
import type { FastifyInstance } from 'fastify';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { CustomersTable, Database } from '../../db/schema.js';
import type { CustomerSpec } from '../../provisioning/provisioning.schema.js';
import { type PageRequest, pageByKey } from '../page.js';
import { iso, likePattern } from './columns.js';
import { getDealer } from './dealers.js';
import { changeOne, createOne, getOne, missing, type Resource, rowByUuid } from './resource.js';
import { changes, creates, lists } from './route.js';
import { customerFields, dealerParamsSchema, exactBody, nullableText, patchBody, text, timestamp, uuidParamsSchema } from './schemas.js';

export interface Customer {
  readonly uuid: string;
  readonly dealerUuid: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const customerSchema = {
  type: 'object',
  properties: {
    uuid: text,
    dealerUuid: text,
    firstName: nullableText,
    lastName: nullableText,
    email: nullableText,
    phone: nullableText,
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

/** What a body may set of a customer. */
const customerData = {
  firstName: customerFields.firstName,
  lastName: customerFields.lastName,
  email: customerFields.email,
  phone: customerFields.phone,
};

const customerFromRow = (r: Selectable<CustomersTable>): Customer => ({
  uuid: r.uuid,
  dealerUuid: r.dealer_uuid,
  firstName: r.first_name,
  lastName: r.last_name,
  email: r.email,
  phone: r.phone,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const customers: Resource<string, Selectable<CustomersTable>, Customer> = {
  find: rowByUuid('customers'),
  toItem: customerFromRow,
  notFound: missing('Customer'),
  entryPath: 'customers[0]',
};

export const getCustomer = (db: Kysely<Database>, uuid: string): Promise<Customer> => getOne(db, customers, uuid);

/** The customer as a provisioning entry (without vehicles: apply then leaves them alone). */
export const customerEntry = (c: Customer): CustomerSpec => ({
  dealer: c.dealerUuid,
  uuid: c.uuid,
  firstName: c.firstName,
  lastName: c.lastName,
  email: c.email,
  phone: c.phone,
});

/** A dealer's customers by UUID; `q` is a case-insensitive part of the full name or the email. */
async function listCustomers(
  db: Kysely<Database>,
  { params, query }: { params: { dealerUuid: string }; query: PageRequest & { q?: string } },
) {
  await getDealer(db, params.dealerUuid);
  let q = db.selectFrom('customers').selectAll().where('dealer_uuid', '=', params.dealerUuid);
  if (query.q !== undefined) {
    const pattern = likePattern(query.q, 'contains');
    q = q.where(
      sql<boolean>`(lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) LIKE ${pattern} ESCAPE '\\'
        OR lower(coalesce(email, '')) LIKE ${pattern} ESCAPE '\\')`,
    );
  }
  return pageByKey(q, 'uuid', query, (rows) => rows.map(customerFromRow));
}

type CustomerFields = Partial<Pick<Customer, 'firstName' | 'lastName' | 'email' | 'phone'>>;

/** A new customer of the dealer; 409 when its UUID is taken, at any dealer. */
async function createCustomer(
  db: Kysely<Database>,
  { params, body }: { params: { dealerUuid: string }; body: CustomerFields & { uuid: string } },
) {
  await getDealer(db, params.dealerUuid);
  const doc = { customers: [{ dealer: params.dealerUuid, ...body }] };
  return createOne(db, customers, body.uuid, doc, (existing) => `Customer ${body.uuid} already exists (dealer ${existing.dealer_uuid})`);
}

/** The customer's entry with the body's fields on top. */
function changeCustomer(db: Kysely<Database>, { params, body }: { params: { uuid: string }; body: CustomerFields }) {
  return changeOne(db, customers, params.uuid, (current) => ({ customers: [{ ...customerEntry(current), ...body }] }));
}

export default function customerRoutes(app: FastifyInstance): void {
  app.get(
    '/dealers/:dealerUuid/customers',
    lists(listCustomers, customerSchema, {
      summary: "List a dealer's customers by UUID (filter: part of the name or email)",
      params: dealerParamsSchema,
      filters: { q: { type: 'string', minLength: 1, maxLength: 255, description: 'Part of the name or the email (case-insensitive)' } },
    }),
  );
  app.post(
    '/dealers/:dealerUuid/customers',
    creates(createCustomer, customerSchema, {
      summary: 'Create a customer of a dealer (409 if the UUID exists at any dealer)',
      params: dealerParamsSchema,
      body: exactBody({ uuid: customerFields.uuid, ...customerData }, ['uuid']),
    }),
  );
  app.patch(
    '/customers/:uuid',
    changes(changeCustomer, customerSchema, {
      summary: 'Change a customer (fields given replace the stored ones; null clears)',
      params: uuidParamsSchema,
      body: patchBody(customerData),
    }),
  );
}
