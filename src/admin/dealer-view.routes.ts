// /admin/v1/dealers/:dealerUuid/… — read-only views of what partners sent for a dealer: chat
// summaries and leads, newest first, in cursor pages.
import type { FastifyInstance } from 'fastify';
import { adminErrors } from './admin.schemas.js';
import {
  chatSummaryPageSchema,
  leadDetailSchema,
  leadPageSchema,
  leadParamsSchema,
  listChatSummariesQuerySchema,
  listLeadsQuerySchema,
} from './dealer-view.schemas.js';
import { getDealerLead, getDealerLeadAdf, listChatSummaries, listLeads, type TimeWindow } from './dealer-view.service.js';
import { dealerParamsSchema } from './resources/schemas.js';

interface WindowQuery {
  limit: number;
  cursor?: string;
  since?: string;
  until?: string;
}

const errors = adminErrors;
const common = { tags: ['admin'], security: [{ adminToken: [] }] };
const config = { envelope: 'plain' as const };

/** ISO date-times (checked by the schema) as epoch ms. */
const windowOf = (query: WindowQuery): TimeWindow => ({
  since: query.since === undefined ? undefined : Date.parse(query.since),
  until: query.until === undefined ? undefined : Date.parse(query.until),
});

export default async function dealerViewRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { dealerUuid: string }; Querystring: WindowQuery & { escalated?: boolean; vin?: string } }>(
    '/dealers/:dealerUuid/chat-summaries',
    {
      config,
      schema: {
        ...common,
        summary: "A dealer's chat summaries, newest event_timestamp first (filters: escalated, since/until, vin)",
        params: dealerParamsSchema,
        querystring: listChatSummariesQuerySchema,
        response: { 200: chatSummaryPageSchema, ...errors },
      },
    },
    async (request) => {
      const { escalated, vin } = request.query;
      return listChatSummaries(app.db, request.params.dealerUuid, { ...windowOf(request.query), escalated, vin }, request.query);
    },
  );

  app.get<{ Params: { dealerUuid: string }; Querystring: WindowQuery & { status?: string; leadType?: string } }>(
    '/dealers/:dealerUuid/leads',
    {
      config,
      schema: {
        ...common,
        summary: "A dealer's leads, newest first by creation (filters: status, leadType, since/until)",
        params: dealerParamsSchema,
        querystring: listLeadsQuerySchema,
        response: { 200: leadPageSchema, ...errors },
      },
    },
    async (request) => {
      const { status, leadType } = request.query;
      return listLeads(app.db, request.params.dealerUuid, { ...windowOf(request.query), status, leadType }, request.query);
    },
  );

  app.get<{ Params: { dealerUuid: string; prospectUuid: string } }>(
    '/dealers/:dealerUuid/leads/:prospectUuid',
    {
      config,
      schema: {
        ...common,
        summary: 'One lead of the dealer with its saved body',
        params: leadParamsSchema,
        response: { 200: leadDetailSchema, ...errors },
      },
    },
    async (request) => getDealerLead(app.db, request.params.dealerUuid, request.params.prospectUuid),
  );

  app.get<{ Params: { dealerUuid: string; prospectUuid: string } }>(
    '/dealers/:dealerUuid/leads/:prospectUuid/adf',
    {
      config,
      schema: {
        ...common,
        summary: 'The lead as an ADF 1.0 document: what a CRM destination (format adf-xml, or kind email) receives for its last save',
        description:
          'Made from the lead and the customer, vehicle and dealer as provisioned now. 422 ADF_NO_CONTACT when the customer has neither email nor phone (ADF requires one): such a save is a dead letter at every adf-xml destination.',
        params: leadParamsSchema,
        response: { 200: { description: 'The ADF document.', content: { 'application/xml': { schema: { type: 'string' } } } }, ...errors },
      },
    },
    async (request, reply) => {
      const xml = await getDealerLeadAdf(app.db, request.params.dealerUuid, request.params.prospectUuid);
      return reply.type('application/xml; charset=utf-8').send(xml);
    },
  );
}
