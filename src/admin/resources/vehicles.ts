// Vehicles: listed per dealer (/admin/v1/dealers/:dealerUuid/vehicles), registered to a customer
// (/admin/v1/customers/:customerUuid/vehicles, at the customer's dealer) and changed by UUID. In a
// provisioning document a vehicle is an entry of its customer's, so every write names both.
import type { FastifyInstance } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import type { Database, VehiclesTable } from '../../db/schema.js';
import type { VehicleSpec } from '../../provisioning/provisioning.schema.js';
import { type PageRequest, pageByKey } from '../page.js';
import { iso } from './columns.js';
import { customerEntry, getCustomer } from './customers.js';
import { getDealer } from './dealers.js';
import { changeOne, createOne, missing, type Resource, rowByUuid } from './resource.js';
import { changes, creates, lists } from './route.js';
import {
  dealerParamsSchema,
  exactBody,
  id,
  nullableText,
  patchBody,
  pathParams,
  text,
  timestamp,
  uuidParamsSchema,
  vehicleFields,
} from './schemas.js';

interface Vehicle {
  readonly uuid: string;
  readonly dealerUuid: string;
  readonly customerUuid: string;
  readonly vin: string | null;
  readonly year: number | null;
  readonly make: string | null;
  readonly model: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const vehicleSchema = {
  type: 'object',
  properties: {
    uuid: text,
    dealerUuid: text,
    customerUuid: text,
    vin: nullableText,
    year: { type: ['integer', 'null'] },
    make: nullableText,
    model: nullableText,
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

/** What a body may set of a vehicle. */
const vehicleData = { vin: vehicleFields.vin, year: vehicleFields.year, make: vehicleFields.make, model: vehicleFields.model };

const vehicleFromRow = (r: Selectable<VehiclesTable>): Vehicle => ({
  uuid: r.uuid,
  dealerUuid: r.dealer_uuid,
  customerUuid: r.customer_uuid,
  vin: r.vin,
  year: r.year,
  make: r.make,
  model: r.model,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const vehicles: Resource<string, Selectable<VehiclesTable>, Vehicle> = {
  find: rowByUuid('vehicles'),
  toItem: vehicleFromRow,
  notFound: missing('Vehicle'),
  entryPath: 'customers[0].vehicles[0]',
};

const vehicleEntry = (v: Vehicle): VehicleSpec => ({ uuid: v.uuid, vin: v.vin, year: v.year, make: v.make, model: v.model });

/** A dealer's vehicles by UUID, optionally those with one VIN (the (dealer, vin) index). */
async function listVehicles(
  db: Kysely<Database>,
  { params, query }: { params: { dealerUuid: string }; query: PageRequest & { vin?: string } },
) {
  await getDealer(db, params.dealerUuid);
  let q = db.selectFrom('vehicles').selectAll().where('dealer_uuid', '=', params.dealerUuid);
  if (query.vin !== undefined) q = q.where('vin', '=', query.vin);
  return pageByKey(q, 'uuid', query, (rows) => rows.map(vehicleFromRow));
}

type VehicleFields = Partial<Pick<Vehicle, 'vin' | 'year' | 'make' | 'model'>>;

/** A new vehicle in its customer's entry (the customer's fields as they are); 409 when its UUID is taken. */
async function createVehicle(
  db: Kysely<Database>,
  { params, body }: { params: { customerUuid: string }; body: VehicleFields & { uuid: string } },
) {
  const customer = await getCustomer(db, params.customerUuid);
  const doc = { customers: [{ ...customerEntry(customer), vehicles: [body] }] };
  return createOne(db, vehicles, body.uuid, doc, (existing) => `Vehicle ${body.uuid} already exists (customer ${existing.customer_uuid})`);
}

/** The vehicle's entry with the body's fields on top, in its customer's entry. */
function changeVehicle(db: Kysely<Database>, { params, body }: { params: { uuid: string }; body: VehicleFields }) {
  return changeOne(db, vehicles, params.uuid, async (current) => ({
    customers: [{ ...customerEntry(await getCustomer(db, current.customerUuid)), vehicles: [{ ...vehicleEntry(current), ...body }] }],
  }));
}

export default function vehicleRoutes(app: FastifyInstance): void {
  app.get(
    '/dealers/:dealerUuid/vehicles',
    lists(listVehicles, vehicleSchema, {
      summary: "List a dealer's vehicles by UUID (filter: VIN)",
      params: dealerParamsSchema,
      filters: { vin: { type: 'string', minLength: 1, maxLength: 17, description: 'Exact VIN' } },
    }),
  );
  app.post(
    '/customers/:customerUuid/vehicles',
    creates(createVehicle, vehicleSchema, {
      summary: "Register a vehicle to a customer (at the customer's dealer; 409 if the UUID exists)",
      params: pathParams({ customerUuid: id }),
      body: exactBody({ uuid: vehicleFields.uuid, ...vehicleData }, ['uuid']),
    }),
  );
  app.patch(
    '/vehicles/:uuid',
    changes(changeVehicle, vehicleSchema, {
      summary: 'Change a vehicle (fields given replace the stored ones; null clears)',
      params: uuidParamsSchema,
      body: patchBody(vehicleData),
    }),
  );
}
