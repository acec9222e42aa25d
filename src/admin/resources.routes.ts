// /admin/v1 provisioning resources: dealers, customers, vehicles, subscribers, integrations and
// the audit log. Writes go through `apply` (resources.service.ts); after each, the directory is
// reloaded so authentication sees the change on the next request, not a poll later.
import type { FastifyInstance } from 'fastify';
import type { GrantSpec, IntegrationSpec, RateLimitSpec } from '../provisioning/provisioning.schema.js';
import { adminErrors } from './admin.schemas.js';
import {
  auditPageSchema,
  createCustomerBodySchema,
  createDealerBodySchema,
  createIntegrationBodySchema,
  createSubscriberBodySchema,
  createVehicleBodySchema,
  customerPageSchema,
  customerParamsSchema,
  customerSchema,
  dealerPageSchema,
  dealerParamsSchema,
  dealerSchema,
  grantsBodySchema,
  integrationPageSchema,
  integrationParamsSchema,
  integrationSchema,
  listAuditQuerySchema,
  listCustomersQuerySchema,
  listDealersQuerySchema,
  listIntegrationsQuerySchema,
  listSubscribersQuerySchema,
  listVehiclesQuerySchema,
  passwordBodySchema,
  patchCustomerBodySchema,
  patchDealerBodySchema,
  patchIntegrationBodySchema,
  patchVehicleBodySchema,
  rateLimitBodySchema,
  subscriberPageSchema,
  subscriberSchema,
  usernameParamsSchema,
  uuidParamsSchema,
  vehiclePageSchema,
  vehicleSchema,
} from './resources.schemas.js';
import * as resources from './resources.service.js';

interface PageQuery {
  limit: number;
  cursor?: string;
}

const errors = adminErrors;
const common = { tags: ['admin'], security: [{ adminToken: [] }] };
const config = { envelope: 'plain' as const };

export default async function resourceRoutes(app: FastifyInstance): Promise<void> {
  /** Runs a write, then makes this process's directory see it before answering. */
  const changed = async <T>(result: Promise<T>): Promise<T> => {
    const value = await result;
    await app.directory.refresh();
    return value;
  };

  // ---- dealers ----

  app.get<{ Querystring: PageQuery & { q?: string } }>(
    '/dealers',
    {
      config,
      schema: {
        ...common,
        summary: 'List dealers by UUID (filter: name or UUID prefix)',
        querystring: listDealersQuerySchema,
        response: { 200: dealerPageSchema, ...errors },
      },
    },
    async (request) => resources.listDealers(app.db, { q: request.query.q }, request.query),
  );

  app.get<{ Params: { uuid: string } }>(
    '/dealers/:uuid',
    { config, schema: { ...common, summary: 'One dealer', params: uuidParamsSchema, response: { 200: dealerSchema, ...errors } } },
    async (request) => resources.getDealer(app.db, request.params.uuid),
  );

  app.post<{ Body: { uuid: string; name: string } }>(
    '/dealers',
    {
      config,
      schema: {
        ...common,
        summary: 'Create a dealer (409 if the UUID exists)',
        body: createDealerBodySchema,
        response: { 201: dealerSchema, ...errors },
      },
    },
    async (request, reply) => {
      const dealer = await changed(resources.createDealer(app.db, request.body));
      return reply.code(201).send(dealer);
    },
  );

  app.patch<{ Params: { uuid: string }; Body: { name: string } }>(
    '/dealers/:uuid',
    {
      config,
      schema: {
        ...common,
        summary: 'Rename a dealer',
        params: uuidParamsSchema,
        body: patchDealerBodySchema,
        response: { 200: dealerSchema, ...errors },
      },
    },
    async (request) => changed(resources.updateDealer(app.db, request.params.uuid, request.body)),
  );

  // ---- customers ----

  app.get<{ Params: { dealerUuid: string }; Querystring: PageQuery & { q?: string } }>(
    '/dealers/:dealerUuid/customers',
    {
      config,
      schema: {
        ...common,
        summary: "List a dealer's customers by UUID (filter: part of the name or email)",
        params: dealerParamsSchema,
        querystring: listCustomersQuerySchema,
        response: { 200: customerPageSchema, ...errors },
      },
    },
    async (request) => resources.listCustomers(app.db, request.params.dealerUuid, { q: request.query.q }, request.query),
  );

  app.post<{ Params: { dealerUuid: string }; Body: resources.CustomerFields & { uuid: string } }>(
    '/dealers/:dealerUuid/customers',
    {
      config,
      schema: {
        ...common,
        summary: 'Create a customer of a dealer (409 if the UUID exists at any dealer)',
        params: dealerParamsSchema,
        body: createCustomerBodySchema,
        response: { 201: customerSchema, ...errors },
      },
    },
    async (request, reply) => {
      const customer = await changed(resources.createCustomer(app.db, request.params.dealerUuid, request.body));
      return reply.code(201).send(customer);
    },
  );

  app.patch<{ Params: { uuid: string }; Body: resources.CustomerFields }>(
    '/customers/:uuid',
    {
      config,
      schema: {
        ...common,
        summary: 'Change a customer (fields given replace the stored ones; null clears)',
        params: uuidParamsSchema,
        body: patchCustomerBodySchema,
        response: { 200: customerSchema, ...errors },
      },
    },
    async (request) => changed(resources.updateCustomer(app.db, request.params.uuid, request.body)),
  );

  // ---- vehicles ----

  app.get<{ Params: { dealerUuid: string }; Querystring: PageQuery & { vin?: string } }>(
    '/dealers/:dealerUuid/vehicles',
    {
      config,
      schema: {
        ...common,
        summary: "List a dealer's vehicles by UUID (filter: VIN)",
        params: dealerParamsSchema,
        querystring: listVehiclesQuerySchema,
        response: { 200: vehiclePageSchema, ...errors },
      },
    },
    async (request) => resources.listVehicles(app.db, request.params.dealerUuid, { vin: request.query.vin }, request.query),
  );

  app.post<{ Params: { customerUuid: string }; Body: resources.VehicleFields & { uuid: string } }>(
    '/customers/:customerUuid/vehicles',
    {
      config,
      schema: {
        ...common,
        summary: "Register a vehicle to a customer (at the customer's dealer; 409 if the UUID exists)",
        params: customerParamsSchema,
        body: createVehicleBodySchema,
        response: { 201: vehicleSchema, ...errors },
      },
    },
    async (request, reply) => {
      const vehicle = await changed(resources.createVehicle(app.db, request.params.customerUuid, request.body));
      return reply.code(201).send(vehicle);
    },
  );

  app.patch<{ Params: { uuid: string }; Body: resources.VehicleFields }>(
    '/vehicles/:uuid',
    {
      config,
      schema: {
        ...common,
        summary: 'Change a vehicle (fields given replace the stored ones; null clears)',
        params: uuidParamsSchema,
        body: patchVehicleBodySchema,
        response: { 200: vehicleSchema, ...errors },
      },
    },
    async (request) => changed(resources.updateVehicle(app.db, request.params.uuid, request.body)),
  );

  // ---- subscribers ----

  app.get<{ Querystring: PageQuery & { q?: string } }>(
    '/subscribers',
    {
      config,
      schema: {
        ...common,
        summary: 'List subscribers by username, with their grants (filter: username prefix)',
        querystring: listSubscribersQuerySchema,
        response: { 200: subscriberPageSchema, ...errors },
      },
    },
    async (request) => resources.listSubscribers(app.db, { q: request.query.q }, request.query),
  );

  app.get<{ Params: { username: string } }>(
    '/subscribers/:username',
    {
      config,
      schema: {
        ...common,
        summary: 'One subscriber: grants and whether it is disabled (never its password or hash)',
        params: usernameParamsSchema,
        response: { 200: subscriberSchema, ...errors },
      },
    },
    async (request) => resources.getSubscriber(app.db, request.params.username),
  );

  app.post<{ Body: { username: string; password: string; grants: GrantSpec[]; disabled?: boolean; rateLimit?: RateLimitSpec | null } }>(
    '/subscribers',
    {
      config,
      schema: {
        ...common,
        summary: 'Create a subscriber (a partner account) with its password and grants (409 if it exists)',
        body: createSubscriberBodySchema,
        response: { 201: subscriberSchema, ...errors },
      },
    },
    async (request, reply) => {
      const subscriber = await changed(resources.createSubscriber(app.db, request.body));
      return reply.code(201).send(subscriber);
    },
  );

  app.post<{ Params: { username: string }; Body: { password: string; passwordOverlapHours?: number } }>(
    '/subscribers/:username/password',
    {
      config,
      schema: {
        ...common,
        summary:
          'Rotate a subscriber password: the new one works at once, the old one keeps working for passwordOverlapHours (default 24; 0 = stops at once)',
        params: usernameParamsSchema,
        body: passwordBodySchema,
        response: { 200: subscriberSchema, ...errors },
      },
    },
    async (request) =>
      changed(resources.rotatePassword(app.db, request.params.username, request.body.password, request.body.passwordOverlapHours)),
  );

  app.put<{ Params: { username: string }; Body: { rateLimit: RateLimitSpec | null } }>(
    '/subscribers/:username/rate-limit',
    {
      config,
      schema: {
        ...common,
        summary: 'Set (or, with null, remove) the rate limit of a subscriber on the partner endpoints',
        params: usernameParamsSchema,
        body: rateLimitBodySchema,
        response: { 200: subscriberSchema, ...errors },
      },
    },
    async (request) => changed(resources.setRateLimit(app.db, request.params.username, request.body.rateLimit)),
  );

  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post<{ Params: { username: string } }>(
      `/subscribers/:username/${action}`,
      {
        config,
        schema: {
          ...common,
          summary: disabled ? 'Disable a subscriber (its credentials answer 401 at once)' : 'Enable a disabled subscriber again',
          params: usernameParamsSchema,
          response: { 200: subscriberSchema, ...errors },
        },
      },
      async (request) => changed(resources.setDisabled(app.db, request.params.username, disabled)),
    );
  }

  app.put<{ Params: { username: string }; Body: { grants: GrantSpec[] } }>(
    '/subscribers/:username/grants',
    {
      config,
      schema: {
        ...common,
        summary: 'Replace the grants of a subscriber',
        params: usernameParamsSchema,
        body: grantsBodySchema,
        response: { 200: subscriberSchema, ...errors },
      },
    },
    async (request) => changed(resources.replaceGrants(app.db, request.params.username, request.body.grants)),
  );

  // ---- integrations ----

  app.get<{ Querystring: PageQuery & { subscriber?: string } }>(
    '/integrations',
    {
      config,
      schema: {
        ...common,
        summary: 'List integrations by subscriber and event type (filter: subscriber)',
        querystring: listIntegrationsQuerySchema,
        response: { 200: integrationPageSchema, ...errors },
      },
    },
    async (request) => resources.listIntegrations(app.db, { subscriber: request.query.subscriber }, request.query),
  );

  app.get<{ Params: { subscriber: string; eventType: string } }>(
    '/integrations/:subscriber/:eventType',
    {
      config,
      schema: {
        ...common,
        summary: 'One integration: active, dealer id field and map, JSON Schema, JSONata transform',
        params: integrationParamsSchema,
        response: { 200: integrationSchema, ...errors },
      },
    },
    async (request) => resources.getIntegration(app.db, request.params.subscriber, request.params.eventType),
  );

  app.post<{ Body: IntegrationSpec }>(
    '/integrations',
    {
      config,
      schema: {
        ...common,
        summary: 'Create an integration (schema and transform are compiled first; 409 if it exists)',
        body: createIntegrationBodySchema,
        response: { 201: integrationSchema, ...errors },
      },
    },
    async (request, reply) => {
      const integration = await changed(resources.createIntegration(app.db, request.body));
      return reply.code(201).send(integration);
    },
  );

  app.patch<{ Params: { subscriber: string; eventType: string }; Body: resources.IntegrationFields }>(
    '/integrations/:subscriber/:eventType',
    {
      config,
      schema: {
        ...common,
        summary: 'Change an integration (fields given replace the stored ones; a bad schema or transform is a 400)',
        params: integrationParamsSchema,
        body: patchIntegrationBodySchema,
        response: { 200: integrationSchema, ...errors },
      },
    },
    async (request) => changed(resources.updateIntegration(app.db, request.params.subscriber, request.params.eventType, request.body)),
  );

  // ---- audit ----

  app.get<{ Querystring: PageQuery & { entity?: string; key?: string; actor?: string } }>(
    '/audit',
    {
      config,
      schema: {
        ...common,
        summary: 'The audit log, newest first (filters: entity, key, actor)',
        querystring: listAuditQuerySchema,
        response: { 200: auditPageSchema, ...errors },
      },
    },
    async (request) => {
      const { entity, key, actor } = request.query;
      return resources.listAuditEntries(app.db, { entity, key, actor }, request.query);
    },
  );
}
