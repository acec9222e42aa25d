// /admin/v1 provisioning resources: dealers, customers, vehicles, subscribers, integrations and
// the audit log, one file each. Every file reads the same way: what the API shows of the resource
// (its interface and response schema), how a stored row becomes that, its Resource (how it is
// found, its 404, where it sits in a provisioning document: resource.ts), its operations, then
// its routes, each `app.<method>(path, reads | lists | creates | changes(operation, …))`
// (route.ts). Registered in this order, which is the order of their paths in the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import auditRoutes from './audit.js';
import customerRoutes from './customers.js';
import dealerRoutes from './dealers.js';
import integrationRoutes from './integrations.js';
import subscriberRoutes from './subscribers.js';
import vehicleRoutes from './vehicles.js';

export default async function resourceRoutes(app: FastifyInstance): Promise<void> {
  dealerRoutes(app);
  customerRoutes(app);
  vehicleRoutes(app);
  subscriberRoutes(app);
  integrationRoutes(app);
  auditRoutes(app);
}
