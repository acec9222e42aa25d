// Liveness (the process answers) and readiness (the database answers).

import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { AppError } from '../errors.js';

const statusSchema = {
  type: 'object',
  properties: { status: { type: 'string' } },
  required: ['status'],
} as const;

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/healthz',
    {
      config: { envelope: 'plain', admission: 'always' },
      schema: { tags: ['health'], summary: 'The process is up', response: { 200: statusSchema } },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: { envelope: 'plain', admission: 'always' },
      schema: { tags: ['health'], summary: 'The database is reachable', response: { 200: statusSchema } },
    },
    async (request) => {
      try {
        await sql`select 1`.execute(app.db);
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed');
        throw new AppError('SERVICE_UNAVAILABLE', 'Database is not reachable');
      }
      return { status: 'ready' };
    },
  );
}
