// Everything under /admin/v1: one encapsulated context whose every route requires the admin
// token (admin.plugin.ts). Feature route files register inside it.
import type { FastifyInstance } from 'fastify';
import type { DeliveryConfig } from '../core/config.js';
import { ADMIN_PREFIX } from './admin.plugin.js';
import adminDryRunRoutes from './admin-dry-run.routes.js';
import adminEventRoutes from './admin-events.routes.js';
import dealerViewRoutes from './dealer-view.routes.js';
import destinationRoutes from './destinations.routes.js';
import resourceRoutes from './resources/routes.js';
import statsRoutes from './stats.routes.js';

export default async function adminRoutes(app: FastifyInstance, opts: { delivery: DeliveryConfig }): Promise<void> {
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', app.authenticateAdmin);
      await admin.register(adminEventRoutes);
      await admin.register(resourceRoutes);
      await admin.register(dealerViewRoutes);
      await admin.register(adminDryRunRoutes);
      await admin.register(statsRoutes);
      await admin.register(destinationRoutes, { delivery: opts.delivery });
    },
    { prefix: ADMIN_PREFIX },
  );
}
