// Leads v2: POST saves (upserts) a lead for a dealer; GET reads one back.

import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth/auth.plugin.js';
import type { SaveLeadRequest } from '../leads/lead.model.js';
import { getLead } from '../leads/lead.read.js';
import {
  dealerParamsSchema,
  getLeadResponseSchema,
  leadClientErrorSchema,
  leadParamsSchema,
  saveLeadBodySchema,
  saveLeadResponseSchema,
} from './lead.schemas.js';
import { planLeadSave } from './lead.service.js';

const errorResponses = {
  '4xx': { ...leadClientErrorSchema, description: 'Spring-style client error' },
  '5xx': { ...saveLeadResponseSchema, description: 'Server error with errorUID' },
};

export default async function leadRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Params: { dealerUuid: string }; Body: SaveLeadRequest }>(
    '/leads/v2/dealer/:dealerUuid',
    {
      config: { envelope: 'leads' },
      onRequest: app.requireDealerScope('lead.write'),
      schema: {
        tags: ['leads'],
        summary: 'Save (create or update) a lead for a dealer',
        security: [{ basicAuth: [] }],
        params: dealerParamsSchema,
        body: saveLeadBodySchema,
        response: { 200: saveLeadResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const result = await app.storage.saveLead(planLeadSave(request.params.dealerUuid, request.body, principalOf(request).username));
      request.outcome = { prospectUuid: result.prospectUuid, isNewCreated: result.isNewCreated };
      return {
        error: null,
        isNewCreated: result.isNewCreated,
        prospectUuid: result.prospectUuid,
        statusCode: 200,
        warnings: result.warnings,
      };
    },
  );

  app.get<{ Params: { dealerUuid: string; prospectUuid: string } }>(
    '/leads/v2/dealer/:dealerUuid/lead/:prospectUuid',
    {
      config: { envelope: 'leads' },
      onRequest: app.requireDealerScope('lead.write', 'lead.read'),
      schema: {
        tags: ['leads'],
        summary: 'Read a saved lead',
        security: [{ basicAuth: [] }],
        params: leadParamsSchema,
        response: { 200: getLeadResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const lead = await getLead(app.db, request.params.dealerUuid, request.params.prospectUuid);
      return { error: null, statusCode: 200, warnings: [], lead };
    },
  );
}
