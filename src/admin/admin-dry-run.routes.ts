// POST /admin/v1/integrations/:subscriber/:eventType/dry-run: an operator tries a candidate
// configuration (or the stored one) on a stored event or a pasted body — the console's live
// preview. Nothing is saved; for a stored event the answer also says what would change.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.js';
import { EVENT_TYPES, type EventType } from '../eventlog/event-types.js';
import { type CandidateIntegration, dryRunEvent, dryRunStoredEvent, storedOutcomeOf } from '../gate/dry-run.js';
import { adminErrors } from './admin.schemas.js';

interface DryRunBody {
  requestId?: string;
  body?: string | Record<string, unknown>;
  candidate?: CandidateIntegration;
}

const problems = { type: 'array', items: { type: 'object', additionalProperties: true } } as const;
const outcome = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    errors: problems,
    warnings: problems,
    canonical: { type: ['object', 'null'], additionalProperties: true },
  },
} as const;

export default async function adminDryRunRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Params: { subscriber: string; eventType: EventType }; Body: DryRunBody }>(
    '/integrations/:subscriber/:eventType/dry-run',
    {
      schema: {
        tags: ['admin'],
        security: [{ adminToken: [] }],
        summary: 'Run an integration (stored or candidate) on a stored event or a pasted body; nothing is saved',
        params: {
          type: 'object',
          required: ['subscriber', 'eventType'],
          properties: {
            subscriber: { type: 'string', minLength: 1, maxLength: 128 },
            eventType: { type: 'string', enum: [...EVENT_TYPES] },
          },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            requestId: { type: 'string', minLength: 1, maxLength: 64, description: 'A stored event of this subscriber' },
            body: { type: ['string', 'object'], description: 'An event body (JSON text or object) instead of a stored event' },
            candidate: {
              type: 'object',
              description: 'Integration fields to try instead of the stored ones (active, dealerIdField, dealerMap, schema, transform)',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string', enum: ['PROCESSED', 'REJECTED'] },
              dealerUuid: { type: ['string', 'null'] },
              canonical: { type: ['object', 'null'], additionalProperties: true },
              errors: problems,
              warnings: problems,
              diff: {
                type: ['object', 'null'],
                properties: {
                  statusChanged: { type: 'boolean' },
                  before: outcome,
                  after: outcome,
                  changedFields: { type: 'array', items: { type: 'string' } },
                },
              },
            },
          },
          ...adminErrors,
        },
      },
    },
    async (request) => {
      const { subscriber, eventType } = request.params;
      const { requestId, body, candidate } = request.body;
      if ((requestId === undefined) === (body === undefined)) {
        throw new AppError('VALIDATION_FAILED', 'Give either requestId (a stored event) or body, not both');
      }
      if (requestId !== undefined) {
        const stored = await storedOutcomeOf(app.db, requestId);
        if (!stored || stored.username !== subscriber || stored.eventType !== eventType) {
          throw new AppError('EVENT_NOT_FOUND', `No ${eventType} event ${requestId} from ${subscriber}`);
        }
        const { result, diff } = await dryRunStoredEvent(app.db, app.directory, stored, candidate);
        return { ...result, diff };
      }
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return { ...(await dryRunEvent(app.db, app.directory, { username: subscriber, eventType, body: text, candidate })), diff: null };
    },
  );
}
